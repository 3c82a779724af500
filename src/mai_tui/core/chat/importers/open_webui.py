"""Open WebUI's chat export: a chat or a list of them, each with its messages by id in
`chat.history` (old exports: a plain `chat.messages` list). A reasoning model's thinking sits
inside the answer's text; it is taken out into the message's `reasoning`."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from mai_tui.core.chat.importers.drafts import (
    MODEL_WIDTH,
    Bad,
    Draft,
    Message,
    Node,
    as_count,
    as_key,
    as_object,
    as_temperature,
    as_text,
    clean_tags,
    draft_title,
    epoch,
    kept_tree,
    place,
    placeholder,
    text_parts,
)
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _

# Open WebUI keeps a reasoning model's thinking inside the answer, in a collapsible block.
_REASONING = re.compile(r'<details\s+type="reasoning"[^>]*>\s*(?:<summary>.*?</summary>)?(.*?)</details>\s*', re.S)


def _unquote(line: str) -> str:
    """A line of the quoted thinking without its `> ` (indentation after it is kept)."""
    if not line.startswith(">"):
        return line
    return line[2:] if line.startswith("> ") else line[1:]


def _split_reasoning(content: str) -> tuple[str, str | None]:
    """The answer without its thinking blocks, and the thinking (some versions escape it as HTML)."""
    found = [html.unescape(match.group(1)) for match in _REASONING.finditer(content)]
    if not found:
        return content, None
    thinking = "\n\n".join("\n".join(_unquote(line) for line in text.strip().splitlines()) for text in found)
    return _REASONING.sub("", content).strip(), thinking.strip() or None


def _ollama_usage(info: Mapping[str, Any]) -> dict[str, Any]:
    return {"prompt_tokens": info.get("prompt_eval_count"), "completion_tokens": info.get("eval_count")}


def _open_webui_messages(where: str, chat: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The chat's messages by id, and its current message: from `history`, or (old exports) a
    plain `messages` list where each follows the one before."""
    history = chat.get("history")
    if isinstance(history, dict) and isinstance(history.get("messages"), dict) and history["messages"]:
        current = history.get("currentId")
        return history["messages"], current if isinstance(current, str) else None
    listed = chat.get("messages")
    if not isinstance(listed, list):
        raise Bad(_("{where}: the chat has no history.messages").format(where=where))
    messages: dict[str, Any] = {}
    previous: str | None = None
    for position, raw in enumerate(listed, 1):
        if not isinstance(raw, dict):
            raise Bad(_("{where}: message {n} is not an object").format(where=where, n=position))
        key = as_key(raw.get("id")) or f"#{position}"
        messages[key] = {**raw, "id": key, "parentId": raw.get("parentId", previous)}
        previous = key
    return messages, previous


def parse(index: int, item: Mapping[str, Any], skipped: list[int]) -> Draft:
    """Chat `index` of the file (counted from 1) as a draft; raises Bad when it is not right.
    Parts that are not text (images, files) are left out and counted in `skipped[0]`."""
    chat = as_object(item.get("chat")) or item
    title = item.get("title") if isinstance(item.get("title"), str) else chat.get("title")
    where = place(index, title)
    raw_messages, current = _open_webui_messages(where, chat)
    created = epoch(item.get("created_at")) or epoch(chat.get("timestamp"))
    nodes: list[Node] = []
    for key, raw in raw_messages.items():
        if not isinstance(raw, dict):
            raise Bad(_("{where}: message '{key}' is not an object").format(where=where, key=key))
        parent = raw.get("parentId")
        if parent is not None and not isinstance(parent, str):
            raise Bad(_("{where}: message '{key}' has a parentId that is not text").format(where=where, key=key))
        content = raw.get("content", "")
        if isinstance(content, list):
            content, parts = text_parts(content)
        elif isinstance(content, str):
            parts = 0
        else:
            raise Bad(_("{where}: message '{key}' has no text content").format(where=where, key=key))
        parts += len(raw["files"]) if isinstance(raw.get("files"), list) else 0
        when = epoch(raw.get("timestamp"))
        message = None
        if raw.get("role") in ("user", "assistant"):
            skipped[0] += parts
            content, reasoning = _split_reasoning(content) if raw["role"] == "assistant" else (content, None)
            # OpenAI-style `usage`; answers from Ollama carry its counts in `info` instead
            usage = as_object(raw.get("usage")) or _ollama_usage(as_object(raw.get("info")))
            model = as_text(raw.get("model"), MODEL_WIDTH) if raw["role"] == "assistant" else None
            message = Message(
                key=key,
                parent=parent,
                role=raw["role"],
                content=placeholder(content, parts),
                created_at=when or created or utcnow(),
                reasoning=reasoning,
                model=model,
                prompt_tokens=as_count(usage.get("prompt_tokens")),
                completion_tokens=as_count(usage.get("completion_tokens")),
            )
        children = [child for child in raw.get("childrenIds") or [] if isinstance(child, str)]
        nodes.append(Node(key, parent, children, message, when.timestamp() if when else 0.0))
    ordered, leaf = kept_tree(where, nodes, current)
    first = min((message.created_at for message in ordered), default=None)
    created = created or first or utcnow()
    params = as_object(chat.get("params"))
    system = params.get("system") or chat.get("system")
    meta = as_object(item.get("meta"))
    return Draft(
        title=draft_title(title, ordered),
        created_at=created,
        updated_at=epoch(item.get("updated_at")) or max((m.created_at for m in ordered), default=created),
        messages=ordered,
        current=leaf,
        system_prompt=system if isinstance(system, str) and system.strip() else None,
        temperature=as_temperature(params.get("temperature")),
        max_tokens=as_count(params.get("max_tokens")),
        pinned=item.get("pinned") is True,
        archived=item.get("archived") is True,
        tags=clean_tags(meta.get("tags") or chat.get("tags")),
    )
