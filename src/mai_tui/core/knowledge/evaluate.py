"""How well retrieval finds the right page: hit@k and MRR over a labelled question set.

A question names the file that answers it and, where the format has pages, the page (or
slide, or several pages when the answer sits on more than one). A returned passage is a hit
when it comes from that file and, when pages are given, from one of those pages exactly.
DOCX page numbers are approximate (the loader takes them from Word's last layout), so for a
DOCX a passage one page off counts too.

`hit_at_k` and `mrr` are pure; `evaluate` runs every question through `retrieval.search`.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mai_tui.core.context import AppContext
from mai_tui.core.knowledge import retrieval
from mai_tui.core.knowledge.retrieval import Mode, Passage

HIT_CUTOFFS = (1, 3, 5)
MRR_CUTOFF = 10
DOCX_PAGE_TOLERANCE = 1  # DOCX pages come from Word's last layout: approximate


@dataclass(frozen=True)
class Question:
    question: str
    file: str  # the file name (not the path) of the answering document
    pages: tuple[int, ...] | None  # the answering page(s) or slide(s); None: the file has none
    lang: str  # the question's language
    doc_lang: str  # the language of the answering text
    why: str = ""

    @property
    def cross_language(self) -> bool:
        return self.lang != self.doc_lang

    def matches(self, passage: Passage) -> bool:
        """True when `passage` answers this question (right file, right page where known)."""
        if passage.file != self.file:
            return False
        if self.pages is None or passage.page is None:
            return self.pages is None
        tolerance = DOCX_PAGE_TOLERANCE if self.file.lower().endswith(".docx") else 0
        return any(abs(passage.page - page) <= tolerance for page in self.pages)


def load_questions(path: Path) -> list[Question]:
    """The `[[question]]` tables of a TOML file."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    questions = []
    for row in data["question"]:
        page = row.get("page")
        pages = None if page is None else tuple(page) if isinstance(page, list) else (int(page),)
        questions.append(
            Question(
                question=row["question"],
                file=row["file"],
                pages=pages,
                lang=row["lang"],
                doc_lang=row["doc_lang"],
                why=row.get("why", ""),
            )
        )
    return questions


def first_hit(question: Question, passages: Sequence[Passage]) -> int | None:
    """The 1-based rank of the first passage that answers `question`, or None."""
    for rank, passage in enumerate(passages, start=1):
        if question.matches(passage):
            return rank
    return None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float:
    """The share of questions answered within the first `k` passages (0.0 for no questions).

    `ranks` holds, per question, the 1-based rank of its first right passage, or None.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if not ranks:
        return 0.0
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)


def mrr(ranks: Sequence[int | None], cutoff: int | None = None) -> float:
    """Mean reciprocal rank; a question answered below `cutoff` (or never) counts 0."""
    if not ranks:
        return 0.0
    total = 0.0
    for rank in ranks:
        if rank is None:
            continue
        if rank < 1:
            raise ValueError("ranks are 1-based")
        if cutoff is None or rank <= cutoff:
            total += 1.0 / rank
    return total / len(ranks)


@dataclass(frozen=True)
class Metrics:
    n: int
    hits: dict[int, float]  # k -> hit@k
    mrr: float  # MRR@10

    @classmethod
    def of(cls, ranks: Sequence[int | None], cutoffs: Iterable[int] = HIT_CUTOFFS) -> Metrics:
        return cls(len(ranks), {k: hit_at_k(ranks, k) for k in cutoffs}, mrr(ranks, MRR_CUTOFF))


@dataclass(frozen=True)
class Outcome:
    question: Question
    rank: int | None  # of the first right passage, within MRR_CUTOFF; None: not found
    seconds: float  # the search's wall time
    top: str | None  # where the best passage came from (`file, page n`), to see what went wrong


@dataclass
class ModeReport:
    mode: Mode
    cutoffs: tuple[int, ...]
    outcomes: list[Outcome] = field(default_factory=list)

    def _metrics(self, outcomes: Sequence[Outcome]) -> Metrics:
        return Metrics.of([o.rank for o in outcomes], self.cutoffs)

    @property
    def overall(self) -> Metrics:
        return self._metrics(self.outcomes)

    @property
    def same_language(self) -> Metrics:
        return self._metrics([o for o in self.outcomes if not o.question.cross_language])

    @property
    def cross_language(self) -> Metrics:
        return self._metrics([o for o in self.outcomes if o.question.cross_language])

    @property
    def seconds(self) -> list[float]:
        return [o.seconds for o in self.outcomes]

    @property
    def misses(self) -> list[Outcome]:
        """Questions not answered within the largest hit cutoff."""
        return [o for o in self.outcomes if o.rank is None or o.rank > max(self.cutoffs)]


def evaluate(
    context: AppContext,
    collection: str,
    questions: Sequence[Question],
    *,
    k: int = 5,
    modes: Sequence[Mode] = (Mode.VECTOR, Mode.TEXT, Mode.HYBRID),
    min_score: float | None = None,
) -> dict[Mode, ModeReport]:
    """Every question through `retrieval.search` in each mode: hit@1, hit@3, hit@k and MRR@10.

    Each search asks for max(k, 10) passages, so MRR@10 sees ten. `min_score` is passed on:
    None applies the context's `knowledge.min_score` (None by default: no similarity floor).
    """
    cutoffs = tuple(sorted({c for c in HIT_CUTOFFS if c <= k} | {k}))
    depth = max(k, MRR_CUTOFF)
    scopes = retrieval.scopes_for(context, [collection])
    reports: dict[Mode, ModeReport] = {}
    for mode in modes:
        report = ModeReport(mode, cutoffs)
        for question in questions:
            began = time.perf_counter()
            passages = retrieval.search(context, scopes, question.question, k=depth, mode=mode, min_score=min_score)
            seconds = time.perf_counter() - began
            report.outcomes.append(
                Outcome(question, first_hit(question, passages), seconds, passages[0].location() if passages else None)
            )
        reports[mode] = report
    return reports
