"""mai's own JSON (`transfer.export_json`): one conversation, every message of its tree, with
model, tokens, citations and settings; a file is one such object or a list of them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mai_tui.core.chat.importers.drafts import (
    FOLDER_WIDTH,
    MODEL_WIDTH,
    PROVIDER_WIDTH,
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
    is_iso,
    kept_tree,
    parse_iso,
    place,
)
from mai_tui.i18n import _

FORMAT = "mai-chat"  # the file's "format", which tells it apart from other tools' exports
VERSION = 1  # the export writes this; a file with a higher version comes from a newer mai


def _our_time(value: object, where: str, what: str) -> datetime:
    moment = parse_iso(value) if isinstance(value, str) else None
    if moment is None:
        if isinstance(value, str) and is_iso(value):  # a time, but surely not one of a chat
            raise Bad(
                _("{where}: {what} ({time}) is not between 1970 and 2100").format(
                    where=where, what=what, time=value.strip()[:40]
                )
            )
        raise Bad(_("{where}: {what} is not an ISO 8601 time").format(where=where, what=what))
    return moment


def parse(index: int, item: Mapping[str, Any]) -> Draft:
    """Conversation `index` of the file (counted from 1) as a draft; raises Bad when it is not right."""
    version = item.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise Bad(_("conversation {n}: the format version is missing").format(n=index))
    if version > VERSION:
        raise Bad(
            _("conversation {n} was written by a newer mai (format version {version}); update mai to import it").format(
                n=index, version=version
            )
        )
    conversation = item.get("conversation")
    messages = item.get("messages")
    if not isinstance(conversation, dict) or not isinstance(messages, list):
        raise Bad(_("conversation {n}: 'conversation' and 'messages' are missing").format(n=index))
    where = place(index, conversation.get("title"))
    nodes: list[Node] = []
    keys: set[str] = set()
    for position, raw in enumerate(messages, 1):
        if not isinstance(raw, dict):
            raise Bad(_("{where}: message {n} is not an object").format(where=where, n=position))
        key = as_key(raw.get("id"))
        parent = raw.get("parent_id")
        if key is None or (parent is not None and as_key(parent) is None):
            raise Bad(_("{where}: message {n} has no usable id or parent_id").format(where=where, n=position))
        if raw.get("role") not in ("user", "assistant") or not isinstance(raw.get("content"), str):
            raise Bad(
                _("{where}: message '{key}' needs a role (user or assistant) and a text content").format(
                    where=where, key=key
                )
            )
        if key in keys:
            raise Bad(_("{where}: message id '{key}' is used twice").format(where=where, key=key))
        keys.add(key)
        tokens = as_object(raw.get("tokens"))
        citations = raw.get("citations")
        message = Message(
            key=key,
            parent=as_key(parent),
            role=raw["role"],
            content=raw["content"],
            created_at=_our_time(raw.get("created_at"), where, _("the time of message '{key}'").format(key=key)),
            reasoning=as_text(raw.get("reasoning")),
            model=as_text(raw.get("model"), MODEL_WIDTH),
            provider=as_text(raw.get("provider"), PROVIDER_WIDTH),
            prompt_tokens=as_count(tokens.get("prompt_tokens")),
            completion_tokens=as_count(tokens.get("completion_tokens")),
            cached_tokens=as_count(tokens.get("cached_tokens")),
            cache_write_tokens=as_count(tokens.get("cache_write_tokens")),
            reasoning_tokens=as_count(tokens.get("reasoning_tokens")),
            citations=(
                None
                if citations is None
                else citations
                if isinstance(citations, str)
                else json.dumps(citations, ensure_ascii=False)
            ),
        )
        nodes.append(Node(key, message.parent, [], message, position))
    current = as_key(conversation.get("current_leaf_id"))
    if current is not None and current not in keys:
        raise Bad(_("{where}: the current message '{key}' is not in the file").format(where=where, key=current))
    ordered, leaf = kept_tree(where, nodes, current)
    created = _our_time(conversation.get("created_at"), where, _("the start time"))
    return Draft(
        title=draft_title(conversation.get("title"), ordered),
        created_at=created,
        updated_at=parse_iso(str(conversation.get("updated_at") or "")) or created,
        messages=ordered,
        current=leaf if current is not None else None,
        model=as_text(conversation.get("model"), MODEL_WIDTH),
        system_prompt=as_text(conversation.get("system_prompt")),
        temperature=as_temperature(conversation.get("temperature")),
        max_tokens=as_count(conversation.get("max_tokens")),
        pinned=conversation.get("pinned") is True,
        archived=conversation.get("archived") is True,
        folder=as_text(conversation.get("folder"), FOLDER_WIDTH),
        tags=clean_tags(conversation.get("tags")),
    )
