"""A cited passage in its document: the chunks around it, to read it in context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mai_tui.core.context import AppContext
from mai_tui.core.knowledge import collections
from mai_tui.core.knowledge.ingest import chunk_store
from mai_tui.core.knowledge.retrieval import Passage
from mai_tui.core.knowledge.store import StoredChunk


@dataclass(frozen=True)
class Piece:
    """A stretch of the document next to the passage, and the page or slide it is on."""

    page: int | None
    text: str


@dataclass(frozen=True)
class InContext:
    """What to show around a passage: the text before it, the passage, the text after it.

    `found` is False when the document no longer holds the passage (removed or re-indexed
    since the answer): then only the passage as it was cited is shown.
    """

    passage: Passage
    before: list[Piece] = field(default_factory=list)
    text: str = ""
    after: list[Piece] = field(default_factory=list)
    found: bool = False


def in_context(context: AppContext, passage: Passage, around: int = 2) -> InContext:
    """The passage with up to `around` chunks before and after it, their overlaps removed."""
    with context.session(write=False) as session:
        collection = collections.find(session, passage.collection)
        store_name = collection.store_name if collection is not None else None
    if store_name is None:
        return InContext(passage, text=passage.text)
    chunks = chunk_store(context).chunks(store_name, passage.document_id)
    index = _find(chunks, passage)
    if index is None:
        return InContext(passage, text=passage.text)
    version = chunks[index].version
    same = [c for c in chunks if c.version == version]  # a re-index under way may leave two versions
    index = same.index(chunks[index])
    first = max(0, index - around)
    target = same[index]
    before = _without_overlaps(same[first:index])
    if before:
        before[-1] = _cut_tail(before[-1], same[index - 1], target)
    after = _without_overlaps(same[index : index + around + 1])[1:]
    return InContext(
        passage,
        before=_pieces(same[first:index], before),
        text=target.text.strip(),
        after=_pieces(same[index + 1 : index + around + 1], after),
        found=True,
    )


def _pieces(chunks: Sequence[StoredChunk], texts: Sequence[str]) -> list[Piece]:
    """Neighbouring texts joined while they stay on one page."""
    pieces: list[Piece] = []
    for chunk, text in zip(chunks, texts, strict=True):
        if pieces and pieces[-1].page == chunk.page:
            pieces[-1] = Piece(chunk.page, pieces[-1].text + text)
        else:
            pieces.append(Piece(chunk.page, text))
    return [Piece(p.page, p.text.strip()) for p in pieces if p.text.strip()]


def _cut_tail(text: str, chunk: StoredChunk, following: StoredChunk) -> str:
    """`text` (the end of `chunk`) minus what `following` repeats at its start."""
    if chunk.page == following.page and chunk.start <= following.start < chunk.end:
        overlap = chunk.end - following.start
        if 0 < overlap < len(text) and text.endswith(following.text[:overlap]):
            return text[:-overlap]
    return text


def _find(chunks: Sequence[StoredChunk], passage: Passage) -> int | None:
    """The chunk the passage was cut from: same page and offsets, else the same text."""
    for index, chunk in enumerate(chunks):
        if (chunk.page, chunk.start, chunk.end) == (passage.page, passage.start, passage.end) and (
            chunk.text == passage.text
        ):
            return index
    for index, chunk in enumerate(chunks):
        if chunk.text == passage.text:
            return index
    return None


def _without_overlaps(chunks: Sequence[StoredChunk]) -> list[str]:
    """Each chunk's text, minus what it repeats of the chunk before it (chunks overlap by design).

    Offsets index a section's text, so two chunks overlap only when they share a page and the
    later one starts before the earlier one ends; a new section starts a new paragraph.
    """
    texts: list[str] = []
    previous: StoredChunk | None = None
    for chunk in chunks:
        text = chunk.text
        if previous is None:
            texts.append(text)
        elif chunk.page == previous.page and previous.start <= chunk.start < previous.end:
            overlap = previous.end - chunk.start
            if 0 < overlap <= len(previous.text) and text.startswith(previous.text[-overlap:]):
                texts.append(text[overlap:])  # continues the previous chunk exactly
            else:
                texts.append(" " + text)  # offsets do not line up with the text: keep it whole
        else:
            texts.append("\n\n" + text)
        previous = chunk
    return texts
