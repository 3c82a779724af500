"""The prompt library: saved prompts invoked as `/command` in the prompt box.

A prompt's content may hold placeholders, asked for before it is sent:

- `{{name}}` a value to give; `{{name|default}}` one with a default, used when it is left blank.
  Spaces inside the braces are allowed (`{{ name }}`); a name is a letter or `_`, then
  letters, digits, `_` or `-`.
- Anything else is plain text and stays as written: `{name}` (single braces), `{{ }}`,
  `{{2x}}`, an unclosed `{{name`. A value is put in as given, never read again for
  placeholders.

What the user types after `/command ` (see `expand` and `Invocation`): with no placeholders it
is added after the prompt, following a blank line; with exactly one placeholder it is that
placeholder's value and the prompt goes out at once; with several it is the first one's value,
and the others are asked for.

Prompts belong to the workspace: everyone sees and uses them; changing one is for its author
and admins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.store.models import Role, SavedPrompt, User
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _

COMMAND_LENGTH = 64
TITLE_LENGTH = 200
_COMMAND = re.compile(r"[a-z0-9_-]{1,64}")
_PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[^\W\d][\w-]*)\s*(?:\|(?P<default>[^{}]*))?\}\}")
# `/command` at the very start of the text, then a space, a newline or the end.
_INVOKED = re.compile(r"/(?P<command>[A-Za-z0-9_-]{1,64})(?=\s|$)")


# --- placeholders -------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """A placeholder of a prompt: its name, and its default (None: a value must be given)."""

    name: str
    default: str | None = None


def placeholders(content: str) -> list[Variable]:
    """The distinct placeholders of `content` in order of first appearance (the first default wins)."""
    seen: dict[str, Variable] = {}
    for match in _PLACEHOLDER.finditer(content):
        name = match.group("name")
        if name not in seen:
            default = match.group("default")
            seen[name] = Variable(name, None if default is None else default.strip())
    return list(seen.values())


def variables(content: str) -> list[str]:
    """The distinct `{{name}}` placeholders of `content`, in order of first appearance."""
    return [variable.name for variable in placeholders(content)]


def fill(content: str, values: Mapping[str, str]) -> str:
    """`content` with every placeholder replaced by its value.

    A value that is missing or blank takes the placeholder's default; with no default that is
    an InvalidInput naming what is missing. A value for a name the content does not have is
    an InvalidInput too (most likely a typo).
    """
    known = placeholders(content)
    names = {variable.name for variable in known}
    unknown = [name for name in values if name not in names]
    if unknown:
        raise InvalidInput(
            _("the prompt has no placeholder {names}").format(names=", ".join(_braced(n) for n in unknown))
        )
    chosen: dict[str, str] = {}
    missing: list[str] = []
    for variable in known:
        value = values.get(variable.name, "")
        if value.strip():
            chosen[variable.name] = value
        elif variable.default is not None:
            chosen[variable.name] = variable.default
        else:
            missing.append(variable.name)
    if missing:
        raise InvalidInput(_("give a value for {names}").format(names=", ".join(_braced(n) for n in missing)))
    return _PLACEHOLDER.sub(lambda match: chosen[match.group("name")], content)


def _braced(name: str) -> str:
    return "{{" + name + "}}"


# --- `/command` in the prompt box ---------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    """A saved prompt called from the prompt box, with what was typed after its command."""

    command: str
    title: str
    content: str
    rest: str  # the text after `/command `, stripped

    @property
    def variables(self) -> list[Variable]:
        return placeholders(self.content)

    def prefilled(self) -> dict[str, str]:
        """The values known already: the text after the command is the first placeholder's that
        has no default (or the first one's, when all have one)."""
        found = self.variables
        if not found or not self.rest:
            return {}
        needed = next((variable for variable in found if variable.default is None), found[0])
        return {needed.name: self.rest}

    def ready(self) -> str | None:
        """The prompt to send at once, or None when values must be asked for first."""
        found = self.variables
        if not found:
            return f"{self.content}\n\n{self.rest}" if self.rest else self.content
        if len(found) == 1 and self.rest:
            return fill(self.content, self.prefilled())
        return None


def invoked_command(text: str) -> str | None:
    """The command of a text starting with `/command` (lowercased), else None."""
    match = _INVOKED.match(text)
    return match.group("command").lower() if match else None


def expand(text: str, prompts: Iterable[SavedPrompt]) -> Invocation | None:
    """The saved prompt that `text` calls, if it starts with the `/command` of one of `prompts`.

    A `/word` that is no saved prompt's command gives None: the text is sent as it was typed.
    """
    match = _INVOKED.match(text)
    if match is None:
        return None
    command = match.group("command").lower()
    prompt = next((p for p in prompts if p.command == command), None)
    if prompt is None:
        return None
    return Invocation(prompt.command, prompt.title, prompt.content, text[match.end() :].strip())


# --- the library in the database ----------------------------------------------------------


def check_command(command: str) -> str:
    """The command without a leading `/`, if usable; else a readable InvalidInput."""
    command = command.strip().removeprefix("/")
    if not _COMMAND.fullmatch(command):
        raise InvalidInput(
            _(
                "'{command}' is not a usable command: use lowercase letters, digits, '-' and '_' "
                "(no spaces), at most {n} characters"
            ).format(command=command, n=COMMAND_LENGTH)
        )
    return command


def _check_content(content: str) -> str:
    if not content.strip():
        raise InvalidInput(_("a saved prompt needs some text"))
    return content


def _title(title: str | None, content: str) -> str:
    """The title given, else the content's first non-empty line (shortened)."""
    title = (title or "").strip() or next(line.strip() for line in content.splitlines() if line.strip())
    title = " ".join(title.split())
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1].rstrip() + "…"


def all_prompts(session: Session) -> list[SavedPrompt]:
    """Every saved prompt, by command."""
    return list(session.exec(select(SavedPrompt).order_by(col(SavedPrompt.command))).all())


def find(session: Session, command: str) -> SavedPrompt | None:
    """The prompt called `/command` (the slash may be given), or None."""
    command = command.strip().removeprefix("/").lower()
    return session.exec(select(SavedPrompt).where(SavedPrompt.command == command)).first()


def get(session: Session, command: str) -> SavedPrompt:
    prompt = find(session, command)
    if prompt is None:
        raise NotFound(
            _("no saved prompt /{command}: see  mai prompts list").format(command=command.strip().removeprefix("/"))
        )
    return prompt


def _require_can_change(actor: User, prompt: SavedPrompt) -> None:
    if actor.role != Role.ADMIN and prompt.user_id != actor.id:
        raise PermissionDenied(
            _("only its author and admins may change the prompt /{command}").format(command=prompt.command)
        )


def _require_free(session: Session, command: str) -> None:
    if find(session, command) is not None:
        raise InvalidInput(_("the command /{command} is taken already").format(command=command))


def _flush(session: Session, command: str) -> None:
    """Write now; another process taking the same command meanwhile is a readable error."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise InvalidInput(_("the command /{command} is taken already").format(command=command)) from error


def add(session: Session, actor: User, command: str, content: str, *, title: str | None = None) -> SavedPrompt:
    """Save a prompt as `/command`; the title defaults to the content's first line."""
    if actor.role == Role.PENDING:
        raise PermissionDenied(_("your account is pending: an admin must give you a role first"))
    command = check_command(command)
    content = _check_content(content)
    _require_free(session, command)
    prompt = SavedPrompt(command=command, title=_title(title, content), content=content, user_id=actor.id)
    session.add(prompt)
    _flush(session, command)
    return prompt


def update(
    session: Session,
    actor: User,
    command: str,
    *,
    new_command: str | None = None,
    title: str | None = None,
    content: str | None = None,
) -> SavedPrompt:
    """Change a prompt's command, title or content (None leaves that part as it is)."""
    prompt = get(session, command)
    _require_can_change(actor, prompt)
    if new_command is not None:
        new_command = check_command(new_command)
        if new_command != prompt.command:
            _require_free(session, new_command)
            prompt.command = new_command
    if content is not None:
        prompt.content = _check_content(content)
    if title is not None:
        prompt.title = _title(title, prompt.content)
    prompt.updated_at = utcnow()
    session.add(prompt)
    _flush(session, prompt.command)
    return prompt


def remove(session: Session, actor: User, command: str) -> None:
    """Delete the prompt `/command` (NotFound when there is none)."""
    prompt = get(session, command)
    _require_can_change(actor, prompt)
    session.delete(prompt)
    session.flush()
