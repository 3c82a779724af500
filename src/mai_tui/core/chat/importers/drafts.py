"""What every importer shares: the drafts a file becomes before anything is written, the checks
on the file's tree of messages, and small readers for values of unknown type.

A format's parser (`ours`, `open_webui`, `chatgpt`) turns each conversation in the file into a
`Draft` of `Message`s; a problem with the content raises `Bad`, and the caller adds the file's name.

Values the databases cannot store are cleaned here rather than refused: a time outside 1970–2100
(`EARLIEST`, `LATEST`: surely wrong in a chat export, and the far ends overflow) counts as no time
(our own format refuses it, as it refuses a missing time; the others fall back to another time);
a count outside 0…2³¹−1 (the databases' INTEGER) and a temperature that is not a finite number
in 0…2 are left out; NUL characters are removed and lone surrogates become U+FFFD (`clean_text`,
applied by `writing`); tags are normalised as everywhere else (`history.normal_tag`) and kept once
each, compared the way MariaDB's accent- and case-insensitive collations compare them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mai_tui.core.chat.conversations import title_from
from mai_tui.core.chat.history import MAX_TAG, normal_tag, tag_key
from mai_tui.core.errors import InvalidInput
from mai_tui.i18n import _, ngettext

# Column widths (MySQL refuses longer values; the others would keep them and differ).
TITLE_WIDTH, MODEL_WIDTH, PROVIDER_WIDTH, FOLDER_WIDTH, TAG_WIDTH = 200, 200, 100, 200, 100

# The times an import accepts: [EARLIEST, LATEST). Before 1970 or after 2100 a chat export's time
# is surely wrong (and 0001 or 9999 with an offset does not even fit a datetime in UTC).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)
MAX_COUNT = 2**31 - 1  # the largest value of an INTEGER column on every database
MAX_TEMPERATURE = 2.0
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    """A count (tokens, max_tokens): a whole number in 0…2³¹−1 (`1024.0` counts as 1024); else None."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return value
    return None


def as_object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_number(value: object) -> float | None:
    """A finite number as a float (not NaN, not infinite, not an integer too large for a float)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def as_temperature(value: object) -> float | None:
    """A sampling temperature: a finite number in 0…2, else None (the value is left out)."""
    number = as_number(value)
    return number if number is not None and 0.0 <= number <= MAX_TEMPERATURE else None


def as_text(value: object, width: int | None = None) -> str | None:
    if not isinstance(value, str):
        return None
    return value if width is None else value[:width]


def plausible(moment: datetime | None) -> datetime | None:
    """`moment` when it lies in 1970–2100 (`EARLIEST` … `LATEST`), else None."""
    return moment if moment is not None and EARLIEST <= moment < LATEST else None


def epoch(value: object) -> datetime | None:
    """A time given as epoch seconds, milliseconds, microseconds or nanoseconds (told apart by
    size), or as ISO 8601; whole seconds in UTC. None when there is no usable value, or when it
    is outside 1970–2100."""
    if isinstance(value, str) and value.strip():
        return parse_iso(value)
    seconds = as_number(value)  # None for NaN, infinities and integers too large for a float
    if seconds is None or seconds < 0:
        return None
    for limit, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if seconds > limit:
            seconds /= scale
            break
    try:
        return plausible(datetime.fromtimestamp(seconds, UTC).replace(microsecond=0))
    except (OverflowError, OSError, ValueError):
        return None


def _from_iso(text: str) -> datetime | None:
    """The ISO 8601 time as written (no offset: taken as UTC, the way we store times), or None."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def is_iso(text: str) -> bool:
    """Whether `text` is an ISO 8601 time at all (`parse_iso` also refuses one outside 1970–2100)."""
    return _from_iso(text) is not None


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 time in UTC, whole seconds; None when it is not one or is outside 1970–2100."""
    moment = _from_iso(text)
    if moment is None:
        return None
    try:  # 0001-01-01T00:00+05:00 or 9999-12-31T23:00-05:00 do not fit in UTC
        return plausible(moment.astimezone(UTC).replace(microsecond=0))
    except (OverflowError, ValueError):
        return None


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


def clean_text(text: str) -> str:
    """`text` as every database stores it: without NUL characters (PostgreSQL refuses them) and
    with lone surrogates (`"\\ud800"` in JSON; no encoding takes them) made U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", text) if not text.isascii() else text


# Letters that compare equal to a plain one in MariaDB's accent-insensitive collations, but have
# no decomposition that NFKD could take the accent off.
def clean_tags(values: object) -> list[str]:
    """Tag names normalised as everywhere else (`history.normal_tag`: lower case, no leading `#`;
    longer ones shortened, empty ones and Open WebUI's `none` left out), once each: the first of
    those the database would take as the same tag (`tag_key`) is kept."""
    tags: dict[str, str] = {}
    for value in values if isinstance(values, list) else []:
        name = value.get("name") if isinstance(value, dict) else value
        if not isinstance(name, str):
            continue
        try:
            tag = normal_tag(clean_text(name).strip().lstrip("#").strip()[:MAX_TAG])
        except InvalidInput:  # empty, or longer than MAX_TAG once in lower case
            continue
        if tag != "none":
            tags.setdefault(tag_key(tag), tag)
    return list(tags.values())


def draft_title(title: object, messages: Sequence[Message]) -> str:
    """The file's title on one line, or (when it has none) one made from the first prompt."""
    if isinstance(title, str) and title.strip():
        return one_line(title)[:TITLE_WIDTH]
    first = next((message.content for message in messages if message.role == "user"), "")
    return title_from(first)[:TITLE_WIDTH]
