"""ChatGPT's `conversations.json` (from its data export): a list of conversations, each a
`mapping` of nodes by id. Only what a person saw is kept: prompts and answers, not system or
hidden messages, messages to or from tools, or content that is not text (such as thoughts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mai_tui.core.chat.importers.drafts import (
    MODEL_WIDTH,
    Bad,
    Draft,
    Message,
    Node,
    as_object,
    as_text,
    draft_title,
    epoch,
    kept_tree,
    place,
    placeholder,
    text_parts,
)
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _


def _chatgpt_message(key: str, raw: Mapping[str, Any], fallback: datetime) -> tuple[Message | None, int]:
    """The message a ChatGPT node holds, if it is one a person saw (a prompt or an answer), and
    how many of its parts were not text."""
    author = as_object(raw.get("author"))
    metadata = as_object(raw.get("metadata"))
    role = author.get("role")
    hidden = metadata.get("is_visually_hidden_from_conversation") is True or raw.get("weight") == 0
    to_a_tool = raw.get("recipient") not in (None, "all")
    if role not in ("user", "assistant") or hidden or to_a_tool:
        return None, 0
    content = as_object(raw.get("content"))
    if content.get("content_type") not in ("text", "multimodal_text"):  # thoughts, code, tool output …
        return None, 1
    parts = content.get("parts")
    text, skipped = text_parts(parts if isinstance(parts, list) else [])
    model = as_text(metadata.get("model_slug"), MODEL_WIDTH) if role == "assistant" else None
    message = Message(
        key=key,
        parent=None,
        role=role,
        content=placeholder(text, skipped),
        created_at=epoch(raw.get("create_time")) or fallback,
        model=model,
        provider="openai" if role == "assistant" else None,
    )
    return message, skipped


def parse(index: int, item: Mapping[str, Any], skipped: list[int]) -> Draft:
    """Conversation `index` of the file (counted from 1) as a draft; raises Bad when it is not right.
    Parts that are not text are left out and counted in `skipped[0]`."""
    where = place(index, item.get("title"))
    mapping = item.get("mapping")
    if not isinstance(mapping, dict):
        raise Bad(_("{where}: 'mapping' is not an object").format(where=where))
    created = epoch(item.get("create_time")) or utcnow()
    nodes: list[Node] = []
    for key, raw in mapping.items():
        if not isinstance(raw, dict):
            raise Bad(_("{where}: message '{key}' is not an object").format(where=where, key=key))
        parent = raw.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise Bad(_("{where}: message '{key}' has a parent that is not text").format(where=where, key=key))
        body = raw.get("message")
        message, parts = _chatgpt_message(key, body, created) if isinstance(body, dict) else (None, 0)
        skipped[0] += parts
        when = epoch(body.get("create_time")) if isinstance(body, dict) else None
        children = [child for child in raw.get("children") or [] if isinstance(child, str)]
        nodes.append(Node(key, parent, children, message, when.timestamp() if when else 0.0))
    current = item.get("current_node") if isinstance(item.get("current_node"), str) else None
    ordered, leaf = kept_tree(where, nodes, current)
    return Draft(
        title=draft_title(item.get("title"), ordered),
        created_at=created,
        updated_at=epoch(item.get("update_time")) or created,
        messages=ordered,
        current=leaf,
        pinned=item.get("pinned_time") is not None,
        archived=item.get("is_archived") is True,
    )
