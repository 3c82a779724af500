"""Bringing conversations in from an export file's JSON: which tool wrote it, each conversation
as a draft, and writing the drafts.

A file is recognised by its content: mai's own JSON (`ours`), Open WebUI's chat export
(`open_webui`) or ChatGPT's `conversations.json` (`chatgpt`); all of its conversations must come
from one of them. `drafts_from` checks everything and writes nothing, so a bad file raises `Bad`
before the database is touched; `write` then stores the drafts. `transfer.import_file` reads the
file, makes the drafts, and writes them in one transaction.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from mai_tui.core.chat.importers import chatgpt, open_webui, ours
from mai_tui.core.chat.importers.drafts import Bad, Draft, as_object
from mai_tui.core.chat.importers.writing import write
from mai_tui.i18n import _, ngettext

__all__ = ["Bad", "Draft", "Source", "drafts_from", "write"]


class Source(StrEnum):
    """The tool that wrote an export file."""

    MAI = "mai"
    OPEN_WEBUI = "open-webui"
    CHATGPT = "chatgpt"


def _kind(item: object) -> Source | None:
    """Which tool wrote this conversation, told by the keys it has (None: none we know)."""
    if not isinstance(item, dict):
        return None
    if item.get("format") == ours.FORMAT:
        return Source.MAI
    if "mapping" in item and ("current_node" in item or "create_time" in item):
        return Source.CHATGPT
    chat = as_object(item.get("chat")) or item
    if isinstance(chat.get("history"), dict) or (isinstance(chat.get("messages"), list) and "chat" in item):
        return Source.OPEN_WEBUI
    return None


def drafts_from(data: Any) -> tuple[Source, list[Draft], list[str]]:
    """Every conversation in the file's JSON as a draft (nothing written yet), and warnings to
    show. Raises Bad when the content is not an export we know or not right."""
    items = data if isinstance(data, list) else [data]
    if not items:
        raise Bad(_("the file holds no conversations"))
    kinds = {_kind(item) for item in items}
    if None in kinds:
        position = next(n for n, item in enumerate(items, 1) if _kind(item) is None)
        if len(items) == 1 or len(kinds) == 1:
            raise Bad(
                _(
                    "this is not a conversation export mai knows (mai's own JSON, an Open WebUI chat export "
                    "or ChatGPT's conversations.json)"
                )
            )
        raise Bad(_("conversation {n} is not a conversation like the others").format(n=position))
    if len(kinds) > 1:
        raise Bad(_("the file mixes conversations from different tools"))
    source = kinds.pop()
    assert source is not None
    drafts: list[Draft] = []
    warnings: list[str] = []
    for position, item in enumerate(items, 1):
        skipped = [0]
        if source is Source.MAI:
            draft = ours.parse(position, item)
        elif source is Source.OPEN_WEBUI:
            draft = open_webui.parse(position, item, skipped)
        else:
            draft = chatgpt.parse(position, item, skipped)
        if not draft.messages:
            warnings.append(_("'{title}' has no messages to import; it was left out").format(title=draft.title))
            continue
        if skipped[0]:
            warnings.append(
                ngettext(
                    "'{title}': {n} part that is not text (an image, a file, tool output) was left out",
                    "'{title}': {n} parts that are not text (images, files, tool output) were left out",
                    skipped[0],
                ).format(title=draft.title, n=skipped[0])
            )
        drafts.append(draft)
    return source, drafts, warnings
