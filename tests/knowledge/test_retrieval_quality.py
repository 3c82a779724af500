"""Retrieval quality: the metric functions on hand-computed cases, the question set's shape,
and quality floors on the real evaluation index (real LanceDB, real embedding models).

The floors sit a little below what `benchmarks/retrieval_quality.py` measured; the models
are deterministic on CPU, so a drop below a floor means retrieval got worse.
"""

from __future__ import annotations

from collections import Counter

import pytest

from mai_tui.core.knowledge.evaluate import (
    Metrics,
    ModeReport,
    Outcome,
    Question,
    evaluate,
    first_hit,
    hit_at_k,
    mrr,
)
from mai_tui.core.knowledge.retrieval import Mode, Passage
from tests.knowledge.conftest import DOCS, EvalIndex, documents, questions


def passage(file: str, page: int | None) -> Passage:
    return Passage("c", 1, file, f"/d/{file}", file.rsplit(".", 1)[-1], page, None, "text", 0, 4, 0.5, 0.5)


def question(file: str, pages: tuple[int, ...] | None, lang: str = "en", doc_lang: str = "en") -> Question:
    return Question("q?", file, pages, lang, doc_lang)


# --- the metrics ---------------------------------------------------------------------------------


def test_hit_at_k_counts_questions_answered_within_k() -> None:
    ranks = [1, 3, None, 6]
    assert hit_at_k(ranks, 1) == 0.25
    assert hit_at_k(ranks, 3) == 0.5
    assert hit_at_k(ranks, 5) == 0.5
    assert hit_at_k(ranks, 6) == 0.75
    assert hit_at_k([None, None], 5) == 0.0
    assert hit_at_k([], 5) == 0.0
    with pytest.raises(ValueError, match="at least 1"):
        hit_at_k(ranks, 0)


def test_mrr_averages_reciprocal_ranks_and_counts_misses_as_zero() -> None:
    assert mrr([1, 2, None, 4]) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert mrr([1, 2, None, 4], cutoff=3) == pytest.approx((1 + 0.5) / 4)  # rank 4 is past the cutoff
    assert mrr([10, 11], cutoff=10) == pytest.approx(0.1 / 2)
    assert mrr([1]) == 1.0
    assert mrr([None]) == 0.0
    assert mrr([]) == 0.0
    with pytest.raises(ValueError, match="1-based"):
        mrr([0])


def test_metrics_of_a_mode_split_by_language() -> None:
    report = ModeReport(Mode.HYBRID, (1, 3, 5))
    for rank, lang in ((1, "en"), (2, "en"), (None, "fr"), (4, "fr")):
        report.outcomes.append(Outcome(question("a.pdf", (1,), lang=lang, doc_lang="en"), rank, 0.01, None))
    assert report.overall == Metrics(4, {1: 0.25, 3: 0.5, 5: 0.75}, (1 + 0.5 + 0.25) / 4)
    assert report.same_language == Metrics(2, {1: 0.5, 3: 1.0, 5: 1.0}, (1 + 0.5) / 2)
    assert report.cross_language == Metrics(2, {1: 0.0, 3: 0.0, 5: 0.5}, 0.25 / 2)
    assert [o.rank for o in report.misses] == [None]


def test_a_hit_is_the_right_file_and_exactly_the_right_page() -> None:
    pdf = question("paper.pdf", (5,))
    assert pdf.matches(passage("paper.pdf", 5))
    assert not pdf.matches(passage("paper.pdf", 4))  # no tolerance for PDF pages
    assert not pdf.matches(passage("paper.pdf", 6))
    assert not pdf.matches(passage("other.pdf", 5))
    assert not pdf.matches(passage("paper.pdf", None))
    several = question("deck.pptx", (3, 6))
    assert several.matches(passage("deck.pptx", 6))
    assert not several.matches(passage("deck.pptx", 4))
    pageless = question("notes.docx", None)
    assert pageless.matches(passage("notes.docx", None))
    assert pageless.matches(passage("notes.docx", 7))  # no page asked: the file is enough
    assert not pageless.matches(passage("notes.txt", None))


def test_docx_pages_are_approximate_so_one_page_off_still_counts() -> None:
    docx = question("handbook.docx", (4,))
    assert docx.matches(passage("handbook.docx", 3))
    assert docx.matches(passage("handbook.docx", 5))
    assert not docx.matches(passage("handbook.docx", 6))
    assert not docx.matches(passage("handbook.docx", None))


def test_first_hit_is_the_1_based_rank_of_the_first_right_passage() -> None:
    q = question("paper.pdf", (5,))
    results = [passage("paper.pdf", 4), passage("deck.pptx", 5), passage("paper.pdf", 5), passage("paper.pdf", 5)]
    assert first_hit(q, results) == 3
    assert first_hit(q, results[:2]) is None
    assert first_hit(q, []) is None


# --- the question set ------------------------------------------------------------------------------


def test_the_question_set_covers_languages_formats_and_long_documents() -> None:
    qs = questions()
    assert len(qs) >= 45
    assert len({q.question for q in qs}) == len(qs)  # no duplicates
    assert {q.lang for q in qs} | {q.doc_lang for q in qs} == {"en", "fr", "es"}
    documents({q.file for q in qs})  # every file exists among the fixtures
    assert all(q.why for q in qs)
    pairs = Counter((q.lang, q.doc_lang) for q in qs if q.cross_language)
    assert pairs["en", "fr"] >= 6
    assert sum(n for (lang, doc), n in pairs.items() if lang in {"fr", "es"} and doc == "en") >= 4
    long = {"understanding-breast-cancer-guide.pdf", "dense-passage-retrieval-paper.pdf"}
    assert sum(1 for q in qs if q.file in long) >= 8
    assert {q.file.rsplit(".", 1)[-1] for q in qs} == {"pdf", "pptx", "docx"}
    for q in qs:  # pages are 1-based and the big or slow fixtures stay out of the index
        assert q.pages is None or min(q.pages) >= 1
        assert q.file not in {"us-trustee-chapter13-handbook-872p.docx", "tinyshakespeare.txt"}
    assert DOCS.is_dir()


# --- quality floors on the real index ---------------------------------------------------------------

# hit@5 over all 54 questions as benchmarks/retrieval_quality.py measured it, and the floors
# asserted (about 0.1 lower: five questions' worth). Measured: minilm vector 0.74, hybrid 0.76;
# e5-multilingual vector 0.69, hybrid 0.80.
FLOORS = {
    "minilm": {"vector_hit5": 0.64, "hybrid_hit5": 0.66},
    "e5-multilingual": {"vector_hit5": 0.59, "hybrid_hit5": 0.70},
}


@pytest.fixture(scope="module")
def minilm_reports(eval_index_minilm: EvalIndex) -> dict[Mode, ModeReport]:
    return evaluate(
        eval_index_minilm.context, eval_index_minilm.collection, questions(), modes=(Mode.VECTOR, Mode.HYBRID)
    )


@pytest.fixture(scope="module")
def e5_reports(eval_index_e5: EvalIndex) -> dict[Mode, ModeReport]:
    return evaluate(eval_index_e5.context, eval_index_e5.collection, questions(), modes=(Mode.VECTOR, Mode.HYBRID))


def test_the_eval_index_holds_every_document_once(eval_index_minilm: EvalIndex) -> None:
    files = {q.file for q in questions()}
    assert eval_index_minilm.collection == "eval-minilm"
    assert {r.path.name for r in eval_index_minilm.summary.results} == files
    assert eval_index_minilm.summary.chunks > len(files)


def test_minilm_finds_the_right_page_within_five_passages(minilm_reports: dict[Mode, ModeReport]) -> None:
    floors = FLOORS["minilm"]
    assert minilm_reports[Mode.HYBRID].overall.hits[5] >= floors["hybrid_hit5"]
    assert minilm_reports[Mode.VECTOR].overall.hits[5] >= floors["vector_hit5"]


def test_e5_finds_the_right_page_within_five_passages(e5_reports: dict[Mode, ModeReport]) -> None:
    floors = FLOORS["e5-multilingual"]
    assert e5_reports[Mode.HYBRID].overall.hits[5] >= floors["hybrid_hit5"]
    assert e5_reports[Mode.VECTOR].overall.hits[5] >= floors["vector_hit5"]


def test_e5_is_at_least_as_good_as_minilm_across_languages(
    minilm_reports: dict[Mode, ModeReport], e5_reports: dict[Mode, ModeReport]
) -> None:
    # Measured cross-language hit@5 (15 questions): vector 0.53 vs 0.40, hybrid 0.53 vs 0.40.
    # Only hit@5 is asserted: e5's cross-language MRR is ahead in vector mode by 0.02 only, and
    # behind in hybrid mode (0.24 vs 0.26: it finds more, but ranks them lower).
    for mode in (Mode.VECTOR, Mode.HYBRID):
        e5, minilm = e5_reports[mode].cross_language, minilm_reports[mode].cross_language
        assert e5.n == minilm.n >= 10
        assert e5.hits[5] >= minilm.hits[5], mode


def test_hybrid_beats_either_search_alone_with_minilm(minilm_reports: dict[Mode, ModeReport]) -> None:
    # Measured (minilm): hybrid hit@5 0.76, MRR 0.577; vector 0.74, 0.570. With the usual RRF
    # constant 60 hybrid was the worse one (0.69, 0.564): see retrieval.RRF_K.
    hybrid, vector = minilm_reports[Mode.HYBRID].overall, minilm_reports[Mode.VECTOR].overall
    assert hybrid.hits[5] >= vector.hits[5]
    assert hybrid.mrr >= vector.mrr


def test_e5_hybrid_is_the_best_overall(
    minilm_reports: dict[Mode, ModeReport], e5_reports: dict[Mode, ModeReport]
) -> None:
    # Measured hit@5: e5 hybrid 0.80; minilm hybrid 0.76, minilm vector 0.74, e5 vector 0.69.
    best = e5_reports[Mode.HYBRID].overall.hits[5]
    assert best >= minilm_reports[Mode.HYBRID].overall.hits[5]
    assert best >= minilm_reports[Mode.VECTOR].overall.hits[5]
    assert best >= e5_reports[Mode.VECTOR].overall.hits[5]
