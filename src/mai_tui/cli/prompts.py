"""`mai prompts list|add|remove`: the prompt library, used as `/command` in the chat."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mai_tui.cli.output import print_json, print_table, say, signed_in
from mai_tui.i18n import _

if TYPE_CHECKING:
    from sqlmodel import Session

    from mai_tui.core.store.models import SavedPrompt

app = typer.Typer(
    help=_("Saved prompts: type /command in the chat to use one; {{name}} asks for a value before sending."),
    no_args_is_help=True,
)

Command = Annotated[str, typer.Argument(metavar="COMMAND", help=_("The command, without the slash: e.g. summarize."))]


def _author(session: Session, prompt: SavedPrompt) -> str | None:
    from mai_tui.core.store.models import User

    user = session.get(User, prompt.user_id) if prompt.user_id is not None else None
    return user.name if user is not None else None


def _prompt_json(session: Session, prompt: SavedPrompt) -> dict[str, Any]:
    from mai_tui.core.chat.prompts import variables

    return {
        "command": prompt.command,
        "title": prompt.title,
        "content": prompt.content,
        "variables": variables(prompt.content),
        "author": _author(session, prompt),
        "created_at": prompt.created_at,
        "updated_at": prompt.updated_at,
    }


@app.command("list", help=_("List the saved prompts."))
def list_(json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    from mai_tui.core.chat.prompts import all_prompts

    with signed_in() as (_ctx, session, _actor):
        rows = [_prompt_json(session, prompt) for prompt in all_prompts(session)]
    if json_out:
        print_json(rows)
        return
    if not rows:
        say(_("No saved prompts yet: add one with  mai prompts add COMMAND TEXT"))
        return
    print_table(
        [_("command"), _("title"), _("asks for")],
        [("/" + row["command"], row["title"], ", ".join(row["variables"]) or None) for row in rows],
    )


def _content(text: str | None, file: Path | None) -> str:
    """The prompt's text: the argument, the file, or piped standard input (exactly one of them)."""
    from mai_tui.core.errors import InvalidInput

    if text is not None and file is not None:
        raise InvalidInput(_("give the text or --file, not both"))
    if file is not None:
        try:
            return file.expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInput(
                _("cannot read {path}: {reason}").format(path=file, reason=getattr(error, "strerror", None) or error)
            ) from None
    if text is not None:
        return text
    if sys.stdin is not None and not sys.stdin.isatty():
        return sys.stdin.read()
    raise InvalidInput(_("no text given: add it as an argument, with --file, or on standard input"))


ADD_HELP = _(
    "Save a prompt as /COMMAND (lowercase letters, digits, '-' and '_'). Its text comes from TEXT, "
    "--file or standard input. In it, {{name}} is asked for before sending, {{name|default}} may be left "
    "blank; single braces are plain text."
)


@app.command("add", help=ADD_HELP)
def add(
    command: Command,
    text: Annotated[
        str | None, typer.Argument(metavar="[TEXT]", help=_("The prompt's text."), show_default=False)
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help=_("Shown beside the command (default: the text's first line)."))
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help=_("Read the text from this file."))] = None,
) -> None:
    from mai_tui.core.chat import prompts

    content = _content(text, file)
    with signed_in() as (_ctx, session, actor):
        saved = prompts.add(session, actor, command, content, title=title)
        asks = prompts.variables(saved.content)
    message = _("Saved /{command}: type it at the start of a chat prompt.").format(command=saved.command)
    if asks:
        message += " " + _("It asks for: {names}.").format(names=", ".join(asks))
    say(message)


@app.command("remove", help=_("Delete a saved prompt."))
def remove(command: Command) -> None:
    from mai_tui.core.chat import prompts

    with signed_in() as (_ctx, session, actor):
        prompts.remove(session, actor, command)
    say(_("Removed /{command}.").format(command=command.strip().removeprefix("/")))
