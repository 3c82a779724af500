"""A cited passage read in its document: the chunks around it, without their overlaps."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mai_tui.core.context import load_context
from mai_tui.core.knowledge import manage, passages
from mai_tui.core.knowledge.passages import Piece, in_context
from mai_tui.core.knowledge.retrieval import Passage
from mai_tui.core.knowledge.store import StoredChunk

PAGE_ONE = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota."
PAGE_TWO = "Kappa lambda mu."


def chunk(ordinal: int, page: int, start: int, end: int, text: str, version: str = "v2") -> StoredChunk:
    return StoredChunk(7, version, ordinal, text[start:end], "doc.pdf", page, None, start, end)


class FakeStore:
    """The one document's chunks, overlapping by a few characters as the chunker cuts them."""

    def __init__(self, chunks: Sequence[StoredChunk]) -> None:
        self._chunks = list(chunks)

    def chunks(self, collection: str, document_id: int) -> list[StoredChunk]:
        return self._chunks


def cited(piece: StoredChunk) -> Passage:
    return Passage(
        "notes", 7, "doc.pdf", "/d/doc.pdf", "pdf", piece.page, None, piece.text, piece.start, piece.end, 0.5, None
    )


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> list[StoredChunk]:
    manage.create_collection(load_context(), "notes")
    chunks = [
        chunk(0, 1, 0, 24, PAGE_ONE),  # "Alpha beta gamma. Delta "
        chunk(1, 1, 18, 44, PAGE_ONE),  # "Delta epsilon zeta. Eta th" (overlaps "Delta ")
        chunk(2, 1, 38, len(PAGE_ONE), PAGE_ONE),  # "Eta theta iota." (overlaps "Eta th")
        chunk(3, 2, 0, len(PAGE_TWO), PAGE_TWO),
        chunk(0, 1, 0, 10, "An older version", version="v1"),  # left over by a re-index under way
    ]
    monkeypatch.setattr(passages, "chunk_store", lambda context: FakeStore(chunks))
    return chunks


def test_the_passage_comes_with_its_neighbours_and_no_text_twice(store: list[StoredChunk]) -> None:
    shown = in_context(load_context(), cited(store[1]))
    assert shown.found
    assert shown.text == "Delta epsilon zeta. Eta th"
    assert shown.before == [Piece(1, "Alpha beta gamma.")]
    assert shown.after == [Piece(1, "eta iota."), Piece(2, "Kappa lambda mu.")]


def test_a_passage_the_document_no_longer_holds_is_shown_as_cited(store: list[StoredChunk]) -> None:
    gone = cited(chunk(9, 1, 0, 12, "Not there any more"))
    shown = in_context(load_context(), gone)
    assert not shown.found
    assert (shown.text, shown.before, shown.after) == ("Not there an", [], [])
