"""Cut a loaded document into overlapping chunks for embedding and search.

A chunk never crosses a section, so it has one page (or slide) and one heading. Inside a
section a chunk ends, by preference, at a paragraph break, else at the end of a sentence,
else at whitespace, and only cuts through a word when a word is longer than a chunk. The next
chunk starts about `overlap` characters back, at the start of a sentence or a word.

Cut points are found with one regular-expression scan per section and looked up by bisection,
so chunking is linear in the size of the text.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from mai_tui.core.errors import InvalidInput
from mai_tui.core.knowledge.documents import Chunk, LoadedDocument, Section
from mai_tui.i18n import _

MIN_SIZE = 100

# A blank line (whitespace-only lines count as blank).
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v]*\n\s*")
# The end of a sentence: . ! ? … (not after a lone letter, as in initials "J. Smith" or
# "U.S."), closing quotes or brackets, then whitespace; or CJK 。！？, which need no space.
# Runs of marks are matched from their first mark only, possessively: linear on "......".
_SENTENCE_END = re.compile(
    r"(?:(?<![.])(?<!\b[^\W\d_])\.++|(?<![!?…])[!?…]++)[\"'”’»)\]]*+(\s+)|[。！？]+[」』”’）\]]*(\s*)"
)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class _Cuts:
    """Where a chunk may end (`ends`) and where the text resumes after it (`starts`), by strength."""

    paragraph_ends: list[int]
    sentence_ends: list[int]  # paragraph breaks included
    space_ends: list[int]
    sentence_starts: list[int]  # paragraph starts included
    space_starts: list[int]


def chunk_document(document: LoadedDocument, *, size: int = 1000, overlap: int = 100) -> list[Chunk]:
    """Chunks of at most `size` characters, consecutive ones sharing about `overlap` characters.

    Chunks stay inside one section; `chunk.text == section.text[chunk.start:chunk.end]`, with
    surrounding whitespace trimmed. Whitespace-only stretches make no chunk.
    Raises InvalidInput unless `size` >= 100 and 0 <= `overlap` < `size` / 2.
    """
    if size < MIN_SIZE:
        raise InvalidInput(_("chunk size must be at least {minimum} characters").format(minimum=MIN_SIZE))
    if overlap < 0 or 2 * overlap >= size:
        raise InvalidInput(
            _("chunk overlap must be 0 or more and less than half the chunk size ({size})").format(size=size)
        )
    chunks: list[Chunk] = []
    for section in document.sections:
        chunks.extend(_chunk_section(section, size, overlap))
    return chunks


def _scan(text: str) -> _Cuts:
    paragraph_ends: list[int] = []
    paragraph_starts: list[int] = []
    for match in _PARAGRAPH_BREAK.finditer(text):
        paragraph_ends.append(match.start())
        paragraph_starts.append(match.end())
    sentence_ends: list[int] = []
    sentence_starts: list[int] = []
    for match in _SENTENCE_END.finditer(text):
        space = match.group(1) if match.group(1) is not None else match.group(2)
        sentence_ends.append(match.end() - len(space or ""))
        sentence_starts.append(match.end())
    space_ends: list[int] = []
    space_starts: list[int] = []
    for match in _WHITESPACE.finditer(text):
        space_ends.append(match.start())
        space_starts.append(match.end())
    return _Cuts(
        paragraph_ends=paragraph_ends,
        sentence_ends=sorted(set(sentence_ends).union(paragraph_ends)),
        space_ends=space_ends,
        sentence_starts=sorted(set(sentence_starts).union(paragraph_starts)),
        space_starts=space_starts,
    )


def _last_in(positions: list[int], low: int, high: int) -> int | None:
    """The largest position in [low, high], if any."""
    index = bisect_right(positions, high) - 1
    if index >= 0 and positions[index] >= low:
        return positions[index]
    return None


def _first_in(positions: list[int], low: int, high: int) -> int | None:
    """The smallest position in [low, high], if any."""
    index = bisect_left(positions, low)
    if index < len(positions) and positions[index] <= high:
        return positions[index]
    return None


def _chunk_section(section: Section, size: int, overlap: int) -> list[Chunk]:
    text = section.text
    length = len(text)
    spans = [(0, length)] if length <= size else _spans(text, _scan(text), size, overlap)
    chunks = []
    for start, end in spans:
        piece = text[start:end]
        stripped = piece.strip()
        if not stripped:
            continue
        first = start + (len(piece) - len(piece.lstrip()))
        chunks.append(Chunk(stripped, section.page, section.heading, first, first + len(stripped)))
    return chunks


def _spans(text: str, cuts: _Cuts, size: int, overlap: int) -> list[tuple[int, int]]:
    length = len(text)
    spans: list[tuple[int, int]] = []
    start = 0
    while start < length:
        limit = start + size
        if limit >= length:
            spans.append((start, length))
            break
        # Prefer a strong cut in the second half of the window; a weaker one anywhere in it.
        half = start + size // 2
        end = (
            _last_in(cuts.paragraph_ends, half, limit)
            or _last_in(cuts.sentence_ends, half, limit)
            or _last_in(cuts.space_ends, half, limit)
            or _last_in(cuts.sentence_ends, start + 1, limit)
            or _last_in(cuts.space_ends, start + 1, limit)
            or limit  # one word longer than a chunk: cut through it
        )
        spans.append((start, end))
        start = _next_start(cuts, start, end, overlap)
    return spans


def _next_start(cuts: _Cuts, start: int, end: int, overlap: int) -> int:
    """Where the chunk after [start, end) begins: about `overlap` back, at a sentence or word."""
    if overlap == 0:
        return end  # the whitespace at the cut is trimmed off the next chunk
    target = max(end - overlap, start + 1)
    # A sentence start within half an overlap of the target, else the next word start.
    candidate = _first_in(cuts.sentence_starts, max(target - overlap // 2, start + 1), end - overlap // 2)
    if candidate is None:
        candidate = _first_in(cuts.space_starts, target, end - 1)
    return target if candidate is None else candidate
