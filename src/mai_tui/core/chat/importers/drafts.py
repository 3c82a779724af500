"""What every importer shares: the drafts a file becomes before anything is written, the checks
on the file's tree of messages, and small readers for values of unknown type.

A format's parser (`ours`, `open_webui`, `chatgpt`) turns each conversation in the file into a
`Draft` of `Message`s; a problem with the content raises `Bad`, and the caller adds the file's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mai_tui.core.chat.conversations import title_from
from mai_tui.i18n import _, ngettext

# Column widths (MySQL refuses longer values; the others would keep them and differ).
TITLE_WIDTH, MODEL_WIDTH, PROVIDER_WIDTH, FOLDER_WIDTH, TAG_WIDTH = 200, 200, 100, 200, 100


class Bad(Exception):
    """A problem with the file's content (the caller adds the file's name)."""


@dataclass
class Message:
    key: str  # the message's id in the file
    parent: str | None
    role: str
    content: str
    created_at: datetime
    reasoning: str | None = None
    model: str | None = None
    provider: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    citations: str | None = None


@dataclass
class Draft:
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[Message]  # parents before children, siblings in their order
    current: str | None  # the key of the message shown last
    model: str | None = None
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    pinned: bool = False
    archived: bool = False
    folder: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Node:
    """A message of the file's tree, before the ones we do not keep (system, tool, hidden) go."""

    key: str
    parent: str | None
    children: list[str]  # the order the other tool shows them in
    message: Message | None  # None: not kept, its children move up to the nearest kept ancestor
    when: float  # for ordering children the file does not list


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines too) made one space."""
    return " ".join(text.split())


def place(index: int, title: object) -> str:
    """Which conversation of the file a problem is in: its number, and its title when it has one."""
    if isinstance(title, str) and title.strip():
        return _("conversation {n} ('{title}')").format(n=index, title=one_line(title)[:60])
    return _("conversation {n}").format(n=index)


# Readers for values of unknown type: the value when it has the type wanted, else None (or {}).


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def as_key(value: object) -> str | None:
    """A message's id (a number or a non-empty text) as text."""
    if _is_int(value) or (isinstance(value, str) and value):
        return str(value)
    return None


def as_count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def as_object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def as_text(value: object, width: int | None = None) -> str | None:
    if not isinstance(value, str):
        return None
    return value if width is None else value[:width]


def epoch(value: object) -> datetime | None:
    """A time given as epoch seconds, milliseconds, microseconds or nanoseconds (told apart by
    size), or as ISO 8601; whole seconds in UTC. None when there is no usable value."""
    if isinstance(value, str) and value.strip():
        return parse_iso(value)
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value or value < 0:
        return None
    seconds = float(value)
    for limit, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if seconds > limit:
            seconds /= scale
            break
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None


def parse_iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # no offset: taken as UTC, the way we store times
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _check_links(where: str, parents: Mapping[str, str | None]) -> None:
    """Every parent is in the file, and following parents always ends at a first message."""
    for key, parent in parents.items():
        if parent is not None and parent not in parents:
            raise Bad(
                _("{where}: message '{key}' follows message '{parent}', which is not in the file").format(
                    where=where, key=key, parent=parent
                )
            )
    settled: set[str] = set()
    for start in parents:
        trail: list[str] = []
        seen: set[str] = set()
        node: str | None = start
        while node is not None and node not in settled:
            if node in seen:
                raise Bad(
                    _("{where}: messages '{key}' … '{parent}' follow each other in a circle").format(
                        where=where, key=node, parent=trail[-1]
                    )
                )
            seen.add(node)
            trail.append(node)
            node = parents[node]
        settled.update(trail)


def kept_tree(where: str, nodes: Sequence[Node], current: str | None) -> tuple[list[Message], str | None]:
    """The kept messages, parents first and siblings in order, each linked to its nearest kept
    ancestor; and the kept message nearest to `current` (itself, or its nearest kept ancestor)."""
    by_key = {node.key: node for node in nodes}
    _check_links(where, {node.key: node.parent for node in nodes})

    def kept_ancestor(key: str | None) -> str | None:
        while key is not None and by_key[key].message is None:
            key = by_key[key].parent
        return key

    # Children in the order the file lists them, then any it does not list (by time).
    children: dict[str, list[str]] = {node.key: [] for node in nodes}
    for node in nodes:
        if node.parent is not None:
            children[node.parent].append(node.key)
    for node in nodes:
        listed = list(dict.fromkeys(key for key in node.children if key in by_key and by_key[key].parent == node.key))
        shown = set(listed)
        rest = sorted((key for key in children[node.key] if key not in shown), key=lambda k: by_key[k].when)
        children[node.key] = [*listed, *rest]
    roots = sorted((node.key for node in nodes if node.parent is None), key=lambda k: by_key[k].when)

    ordered: list[Message] = []
    stack = list(reversed(roots))
    while stack:  # depth first, so a message comes after its parent and siblings keep their order
        key = stack.pop()
        node = by_key[key]
        if node.message is not None:
            node.message.parent = kept_ancestor(node.parent)
            ordered.append(node.message)
        stack.extend(reversed(children[key]))
    leaf = kept_ancestor(current) if current in by_key else None
    if leaf is None and ordered and current not in by_key:
        leaf = _newest_leaf(ordered)
    return ordered, leaf


def _newest_leaf(messages: Sequence[Message]) -> str:
    parents = {message.parent for message in messages}
    leaves = [message for message in messages if message.key not in parents]
    return max(leaves, key=lambda message: message.created_at).key


def text_parts(parts: Iterable[object]) -> tuple[str, int]:
    """The text of a message's parts, and how many parts were not text (images, files …)."""
    texts: list[str] = []
    skipped = 0
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            skipped += 1
    return "\n".join(texts), skipped


def placeholder(content: str, skipped: int) -> str:
    """A message that had only images or files says so rather than being blank."""
    if content.strip() or not skipped:
        return content
    return ngettext("[{n} attachment not imported]", "[{n} attachments not imported]", skipped).format(n=skipped)


def clean_tags(values: object) -> list[str]:
    """Tag names, once each: MySQL compares them without case or trailing spaces."""
    tags: dict[str, str] = {}
    for value in values if isinstance(values, list) else []:
        name = value.get("name") if isinstance(value, dict) else value
        if isinstance(name, str) and name.strip() and name.strip().lower() != "none":
            tag = name.strip()[:TAG_WIDTH].rstrip()
            tags.setdefault(tag.casefold(), tag)
    return list(tags.values())


def draft_title(title: object, messages: Sequence[Message]) -> str:
    """The file's title on one line, or (when it has none) one made from the first prompt."""
    if isinstance(title, str) and title.strip():
        return one_line(title)[:TITLE_WIDTH]
    first = next((message.content for message in messages if message.role == "user"), "")
    return title_from(first)[:TITLE_WIDTH]
