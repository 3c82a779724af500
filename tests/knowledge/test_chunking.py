"""Chunking: pieces of the right size, cut where a reader would cut, never across a page."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest

from mai_tui.core.errors import InvalidInput
from mai_tui.core.knowledge.chunking import chunk_document
from mai_tui.core.knowledge.documents import Chunk, DocumentKind, LoadedDocument, Section
from mai_tui.core.knowledge.loaders import load
from tests.knowledge.conftest import DOCS

SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]]*$")


def document_of(*sections: Section) -> LoadedDocument:
    return LoadedDocument(Path("test.txt"), DocumentKind.TEXT, list(sections), pages=1)


def chunks_by_section(document: LoadedDocument, **options: int) -> list[tuple[Section, list[Chunk]]]:
    """Each section with the chunks made of it alone (chunks never span sections)."""
    return [(section, chunk_document(document_of(section), **options)) for section in document.sections]


def prose(sentences: int) -> str:
    """Distinct sentences of 50 to 80 characters, so every cut can be told apart."""
    return " ".join(f"Sentence number {n} says something {'rather ' * (n % 5)}plain." for n in range(sentences))


@pytest.fixture(scope="module")
def paper() -> LoadedDocument:
    return load(DOCS / "pdf" / "dense-passage-retrieval-paper.pdf")


@pytest.fixture(scope="module")
def handbook() -> LoadedDocument:
    return load(DOCS / "docx" / "us-trustee-chapter13-handbook-872p.docx")


@pytest.mark.parametrize(
    ("size", "overlap"),
    [(99, 0), (0, 0), (1000, -1), (1000, 500), (200, 150)],
)
def test_a_size_or_overlap_out_of_range_is_refused(size: int, overlap: int) -> None:
    with pytest.raises(InvalidInput):
        chunk_document(document_of(Section(prose(40))), size=size, overlap=overlap)


def test_the_smallest_size_and_largest_overlap_allowed_work() -> None:
    chunks = chunk_document(document_of(Section(prose(40))), size=100, overlap=49)

    assert chunks
    assert all(len(chunk.text) <= 100 for chunk in chunks)


def test_chunks_point_back_into_their_section_and_stay_within_size(paper: LoadedDocument) -> None:
    for section, chunks in chunks_by_section(paper, size=500, overlap=50):
        assert chunks
        for chunk in chunks:
            assert section.text[chunk.start : chunk.end] == chunk.text
            assert chunk.text == chunk.text.strip()
            assert 0 < len(chunk.text) <= 500
            assert (chunk.page, chunk.heading) == (section.page, section.heading)


def test_chunks_never_cross_a_page() -> None:
    document = document_of(Section("Short page one.", page=1), Section("Short page two.", page=2))

    chunks = chunk_document(document)

    assert [(chunk.page, chunk.text) for chunk in chunks] == [(1, "Short page one."), (2, "Short page two.")]


def test_consecutive_chunks_overlap_by_about_the_overlap_from_a_word_start() -> None:
    text = prose(200)
    chunks = chunk_document(document_of(Section(text)), size=600, overlap=100)

    assert len(chunks) > 10
    for before, after in pairwise(chunks):
        shared = before.end - after.start
        assert 50 <= shared <= 150, (before, after)
        assert text[after.start - 1] == " "  # the overlap starts at a word, not inside one


def test_the_overlap_prefers_to_start_at_a_sentence() -> None:
    chunks = chunk_document(document_of(Section(prose(200))), size=600, overlap=100)

    assert all(chunk.text.startswith("Sentence number") for chunk in chunks)


def test_no_overlap_means_the_chunks_tile_the_text() -> None:
    text = prose(100)
    chunks = chunk_document(document_of(Section(text)), size=400, overlap=0)

    assert " ".join(chunk.text for chunk in chunks) == text


def test_cuts_fall_at_sentence_ends_in_prose(paper: LoadedDocument) -> None:
    chunks = chunk_document(paper, size=1000, overlap=100)

    ended = [chunk for chunk in chunks if SENTENCE_END.search(chunk.text)]
    assert len(ended) >= 0.8 * len(chunks)


def test_a_paragraph_break_is_preferred_to_a_later_sentence_end() -> None:
    first = prose(10)  # about 650 characters
    text = first + "\n\n" + prose(10)

    chunks = chunk_document(document_of(Section(text)), size=1000, overlap=0)

    assert chunks[0].text == first


def test_initials_and_abbreviations_are_not_taken_for_sentence_ends() -> None:
    filler = "Words go on here. " * 40  # 720 characters
    text = filler + "The claim went to J. Smith under 11 U.S.C. section 1302 on time. " + "More words. " * 40

    chunks = chunk_document(document_of(Section(text)), size=800, overlap=0)

    assert not chunks[0].text.endswith(("J.", "U.S.", "U.S.C."))
    assert SENTENCE_END.search(chunks[0].text)


def test_chinese_sentences_are_cut_after_their_full_stops() -> None:
    sentence = "这是一个没有空格的中文句子，用来检查切分是否正确。"  # 25 characters
    text = sentence * 40

    chunks = chunk_document(document_of(Section(text)), size=200, overlap=30)

    assert len(chunks) > 4
    assert all(chunk.text.endswith("。") for chunk in chunks)
    assert all(chunk.text.startswith("这是") for chunk in chunks)


def test_a_word_longer_than_a_chunk_is_cut_through() -> None:
    text = "x" * 2500

    chunks = chunk_document(document_of(Section(text)), size=1000, overlap=0)

    assert [len(chunk.text) for chunk in chunks] == [1000, 1000, 500]
    assert "".join(chunk.text for chunk in chunks) == text


def test_whitespace_makes_no_chunk() -> None:
    document = document_of(Section("   \n\n\t  "), Section("  Real text.  \n"))

    chunks = chunk_document(document)

    assert [(chunk.text, chunk.start, chunk.end) for chunk in chunks] == [("Real text.", 2, 12)]


def test_chunking_is_deterministic(paper: LoadedDocument) -> None:
    assert chunk_document(paper) == chunk_document(paper)


def test_the_long_handbook_chunks_whole_and_in_order(handbook: LoadedDocument) -> None:
    # Speed is measured in benchmarks; here the 850,000 characters must come out whole.
    for section, chunks in chunks_by_section(handbook, size=1000, overlap=100):
        assert chunks
        assert chunks[0].start == len(section.text) - len(section.text.lstrip())
        assert chunks[-1].end == len(section.text.rstrip())
        for before, after in pairwise(chunks):
            assert before.start < after.start < before.end  # in order, overlapping, no gap
            assert len(before.text) <= 1000
    assert len(chunk_document(handbook)) > 800


def test_long_runs_of_punctuation_are_scanned_in_linear_time() -> None:
    from mai_tui.core.knowledge.chunking import _SENTENCE_END

    # 200,000 dots took minutes with a backtracking pattern; now it is one possessive run.
    assert [m.span() for m in _SENTENCE_END.finditer("." * 200_000 + " next")] == [(0, 200_001)]
    assert [m.group(1) for m in _SENTENCE_END.finditer("Why?! Yes… “Done.” J. Smith")] == [" ", " ", " "]
