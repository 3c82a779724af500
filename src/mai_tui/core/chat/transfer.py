"""Taking conversations out (export) and bringing them in (the entry points of import).

Out: readable Markdown (the branch the user sees) or our own JSON (every message of the tree,
so it can be imported again), to stdout or written atomically to a file. Only the owner or an
admin may export a conversation (`history.owned`).

In: `import_file` reads an export file and hands its JSON to `importers`, which recognises the
format by content (our JSON, Open WebUI's chat export, ChatGPT's `conversations.json`, not the
file's name) and turns it into drafts. An import is all or nothing: the file is read, checked
and turned into drafts before anything touches the database; the drafts are then written in one
transaction (a savepoint inside a caller's session), so a bad file or a failed write leaves no
half-imported conversation. Imported answers carry no cost: cost comes from the usage ledger,
and no call was made here.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, col, select

from mai_tui.core.chat import history
from mai_tui.core.chat import tree as trees
from mai_tui.core.chat.importers import Bad, Draft, drafts_from, write
from mai_tui.core.chat.importers import Source as Source  # read_import's answer, importable from here
from mai_tui.core.chat.importers.drafts import epoch, one_line
from mai_tui.core.chat.importers.ours import FORMAT, VERSION
from mai_tui.core.errors import InvalidInput
from mai_tui.core.store.models import ChatMessage, Conversation, MessageStatus, User
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 200 * 1024 * 1024  # ChatGPT exports of heavy users reach this; parsing needs ~10× in memory

# Names the import's steps had here before they moved to `importers`: tests call `_epoch`, and
# stand in for `_write` (which is why `import_file` calls it by this name).
_write = write
_epoch = epoch


class ExportFormat(StrEnum):
    MARKDOWN = "md"
    JSON = "json"


# --- export -----------------------------------------------------------------------------------


def _to_export(session: Session, conversation_id: int, user: User | None) -> trees.Tree:
    """The tree of a conversation `user` may export (`history.owned`: their own, or any for an
    admin); with no user, any. A deleted one counts as not there (`trees.load` refuses it)."""
    if user is not None:
        history.owned(session, user, conversation_id)
    return trees.load(session, conversation_id)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _citations_json(stored: str | None) -> Any:
    """Stored citations as JSON data (they are stored as JSON text); unreadable text stays text."""
    if stored is None:
        return None
    try:
        return json.loads(stored)
    except ValueError:
        return stored


def _message_json(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "parent_id": message.parent_id,
        "role": message.role,
        "content": message.content,
        "reasoning": message.reasoning,
        "model": message.model,
        "provider": message.provider,
        "status": message.status,
        "tokens": {
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "cached_tokens": message.cached_tokens,
            "cache_write_tokens": message.cache_write_tokens,
            "reasoning_tokens": message.reasoning_tokens,
        },
        "cost_usd": _money(message.cost_usd),
        "created_at": _iso(message.created_at),
        "citations": _citations_json(message.citations),
    }


def export_json(session: Session, conversation_id: int, *, user: User | None = None) -> dict[str, Any]:
    """The whole conversation as plain JSON data: every message of the tree, every branch.

    Money is a decimal string in USD and times are ISO 8601 with offset; no keys or other secrets.
    """
    tree = _to_export(session, conversation_id, user)
    conversation = tree.conversation
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _iso(utcnow()),
        "conversation": {
            "id": conversation.id,
            "title": conversation.title,
            "model": conversation.model,
            "system_prompt": conversation.system_prompt,
            "temperature": conversation.temperature,
            "max_tokens": conversation.max_tokens,
            "pinned": conversation.pinned,
            "archived": conversation.archived,
            "folder": conversation.folder,
            "tags": history.tags_of(session, conversation_id),
            "current_leaf_id": conversation.current_leaf_id,
            "created_at": _iso(conversation.created_at),
            "updated_at": _iso(conversation.updated_at),
        },
        "messages": [_message_json(message) for message in tree.messages],
    }


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _answer_facts(message: ChatMessage) -> list[str]:
    facts = [_when(message.created_at)]
    if message.prompt_tokens is not None or message.completion_tokens is not None:
        facts.append(
            _("{prompt} → {completion} tokens").format(
                prompt=message.prompt_tokens if message.prompt_tokens is not None else "?",
                completion=message.completion_tokens if message.completion_tokens is not None else "?",
            )
        )
    if message.cost_usd is not None:
        facts.append(f"${format(message.cost_usd, 'f')}")
    return facts


def _message_markdown(message: ChatMessage) -> list[str]:
    if message.role == "user":
        heading = _("You")
    elif message.model:
        heading = _("Assistant · {model}").format(model=message.model)
    else:
        heading = _("Assistant")
    lines = [f"## {heading}", "", f"*{' · '.join(_answer_facts(message))}*", ""]
    if message.reasoning:
        lines += ["<details>", f"<summary>{_('Reasoning')}</summary>", "", message.reasoning.strip(), "", "</details>"]
        lines.append("")
    lines.append(message.content.strip() or _("*(empty)*"))
    if message.status == MessageStatus.CANCELLED.value:
        lines += ["", _("*(the answer stopped here)*")]
    elif message.status == MessageStatus.ERROR.value:
        lines += ["", _("*(error: {error})*").format(error=one_line(message.error or message.error_kind or "?"))]
    return [*lines, ""]


def export_markdown(session: Session, conversation_id: int, *, user: User | None = None) -> str:
    """The branch the user sees (`tree.path()`) as readable Markdown, with title, model and dates;
    a note says when other branches exist (JSON keeps them all)."""
    tree = _to_export(session, conversation_id, user)
    conversation = tree.conversation
    path = tree.path()
    lines = [f"# {one_line(conversation.title)}", ""]
    if conversation.model:
        lines.append("- " + _("Model: {model}").format(model=conversation.model))
    lines.append("- " + _("Started: {time}").format(time=_when(conversation.created_at)))
    lines.append("- " + _("Last change: {time}").format(time=_when(conversation.updated_at)))
    tags = history.tags_of(session, conversation_id)
    if tags:
        lines.append("- " + _("Tags: {tags}").format(tags=", ".join(tags)))
    lines.append("")
    hidden = len(tree.messages) - len(path)
    if hidden:
        note = ngettext(
            "This conversation has other branches: {n} message is not shown here. "
            "Export it as JSON to keep every branch.",
            "This conversation has other branches: {n} messages are not shown here. "
            "Export it as JSON to keep every branch.",
            hidden,
        ).format(n=hidden)
        lines += [f"> {note}", ""]
    if conversation.system_prompt:
        lines += [f"## {_('System prompt')}", "", conversation.system_prompt.strip(), ""]
    for message in path:
        lines += _message_markdown(message)
    return "\n".join(lines).rstrip("\n") + "\n"


def render(session: Session, conversation_id: int, fmt: ExportFormat, *, user: User | None = None) -> str:
    """The export's text in `fmt`."""
    if fmt is ExportFormat.JSON:
        data = export_json(session, conversation_id, user=user)
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return export_markdown(session, conversation_id, user=user)


def default_export_path(conversation_id: int, fmt: ExportFormat = ExportFormat.MARKDOWN) -> str:
    """Where an export goes unless the user says otherwise (as typed: `~` kept)."""
    return f"~/mai-chat-{conversation_id}.{fmt.value}"


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and a rename, so a
    reader never sees half a file and a failure leaves the old one (the file is private: 0600)."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_export(
    session: Session, conversation_id: int, target: str | Path, fmt: ExportFormat, *, user: User | None = None
) -> Path:
    """Render the conversation and write it to `target` (atomically); returns the absolute path."""
    if not str(target).strip():
        raise InvalidInput(_("give a file to export to"))
    path = Path(target).expanduser()
    if path.is_dir():
        raise InvalidInput(_("{path} is a folder; give a file name").format(path=target))
    if not path.parent.is_dir():
        raise InvalidInput(_("there is no folder {folder}").format(folder=path.parent))
    text = render(session, conversation_id, fmt, user=user)
    try:
        write_atomically(path, text)
    except OSError as error:
        raise InvalidInput(
            _("cannot write {path}: {reason}").format(path=target, reason=error.strerror or type(error).__name__)
        ) from None
    return path.resolve()


# --- import -------------------------------------------------------------------------------------


def _read_json(path: Path, shown: str) -> Any:
    if not path.exists():
        raise InvalidInput(_("{file}: no such file").format(file=shown))
    if path.is_dir():
        raise InvalidInput(_("{file} is a folder, not an export file").format(file=shown))
    size = path.stat().st_size
    if size > MAX_IMPORT_BYTES:
        raise InvalidInput(
            _("{file} is {size} MB; mai imports files up to {limit} MB (split the export first)").format(
                file=shown, size=size // 2**20, limit=MAX_IMPORT_BYTES // 2**20
            )
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_IMPORT_BYTES + 1)  # the file may have grown since it was measured
    except OSError as error:
        raise InvalidInput(
            _("{file} cannot be read: {reason}").format(file=shown, reason=error.strerror or type(error).__name__)
        ) from None
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(_("{file} is larger than {limit} MB").format(file=shown, limit=MAX_IMPORT_BYTES // 2**20))
    if not data.strip():
        raise InvalidInput(_("{file} is empty").format(file=shown))
    if b"\x00" in data:
        raise InvalidInput(_("{file} is a binary file, not a JSON export").format(file=shown))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_("{file} is not UTF-8 text, so it is not a JSON export").format(file=shown)) from None
    try:
        return json.loads(text)
    except RecursionError:  # `[[[[…` thousands deep: the parser gives up before it sees the end
        raise InvalidInput(_("{file}: the JSON is nested too deeply").format(file=shown)) from None
    except json.JSONDecodeError as error:
        # A string or a bracket still open at the end: the file stops early, it is not malformed.
        if error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
            raise InvalidInput(
                _("{file} ends in the middle of the JSON: the file is cut off (was the download complete?)").format(
                    file=shown
                )
            ) from None
        raise InvalidInput(
            _("{file} is not valid JSON: {problem} (line {line}, column {column})").format(
                file=shown, problem=error.msg, line=error.lineno, column=error.colno
            )
        ) from None
    except ValueError:  # what else the parser refuses: a number of thousands of digits
        raise InvalidInput(
            _("{file} is not a JSON export mai can read: it holds a number thousands of digits long").format(file=shown)
        ) from None


def read_import(path: str | Path) -> tuple[Source, int, list[str]]:
    """Check a file without importing it: its source, how many conversations it would give, and
    the warnings an import would show. Raises InvalidInput as `import_file` does."""
    source, drafts, warnings = _checked(path)
    return source, len(drafts), warnings


def _checked(path: str | Path) -> tuple[Source, list[Draft], list[str]]:
    shown = str(path)
    data = _read_json(Path(path).expanduser(), shown)
    try:
        return drafts_from(data)
    except Bad as problem:
        raise InvalidInput(_("{file}: {problem}").format(file=shown, problem=problem)) from None
    except RecursionError:
        raise InvalidInput(_("{file}: the JSON is nested too deeply").format(file=shown)) from None
    except Exception as error:  # a value no check foresaw: still the file's fault, still a clear refusal
        log.error("reading the export %s failed", shown, exc_info=error)
        raise InvalidInput(
            _("{file} could not be read as a conversation export ({problem})").format(
                file=shown, problem=type(error).__name__
            )
        ) from None


def import_file(
    target: AppContext | Session,
    path: str | Path,
    user: User,
    *,
    warn: Callable[[str], None] | None = None,
) -> list[int]:
    """Import every conversation in `path` for `user`; returns the new conversations' ids.

    The format is recognised by content: our JSON (one conversation or a list), Open WebUI's chat
    export, ChatGPT's `conversations.json`. A bad file raises InvalidInput naming it and what is
    wrong, and nothing is imported. Branches, titles and times (UTC) are kept; messages are
    marked complete, with no cost. Warnings (left-out images, empty chats) go to `warn`.

    Values a database could not store are cleaned (see `importers.drafts`): times outside
    1970–2100 count as missing (our own format refuses them), counts outside 0…2³¹−1 and
    temperatures outside 0…2 are left out, NUL characters removed, lone surrogates made U+FFFD,
    tags normalised and kept once each. Should the database still refuse a value, that is an
    InvalidInput naming the file too, and nothing is imported.
    """
    source, drafts, warnings = _checked(path)
    for warning in warnings:
        log.warning("import %s: %s", path, warning)
        if warn is not None:
            warn(warning)
    log.info("importing %d conversation(s) from %s (%s)", len(drafts), path, source.value)
    try:
        if isinstance(target, Session):
            with target.begin_nested():  # a savepoint: a failure takes back only what this import wrote
                return _write(target, drafts, user.id)
        with target.session() as session:
            return _write(session, drafts, user.id)
    except (DataError, IntegrityError, OverflowError, UnicodeEncodeError) as error:  # rolled back already
        log.error("the database refused a value of %s", path, exc_info=error)
        raise InvalidInput(
            _("{file}: the database refused a value in it, so nothing was imported ({problem})").format(
                file=path, problem=one_line(str(getattr(error, "orig", error)))[:200]
            )
        ) from None


@dataclass(frozen=True)
class Imported:
    id: int
    title: str
    messages: int


def describe(session: Session, conversation_ids: Sequence[int]) -> list[Imported]:
    """Title and message count of each conversation, in the order given (for reporting an import)."""
    if not conversation_ids:
        return []
    counts = dict(
        session.exec(
            select(ChatMessage.conversation_id, func.count())
            .where(col(ChatMessage.conversation_id).in_(conversation_ids))
            .group_by(col(ChatMessage.conversation_id))
        ).all()
    )
    titles = dict(
        session.exec(
            select(Conversation.id, Conversation.title).where(col(Conversation.id).in_(conversation_ids))
        ).all()
    )
    return [Imported(cid, titles.get(cid, ""), int(counts.get(cid, 0))) for cid in conversation_ids]
