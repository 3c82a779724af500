"""Finding passages: vector and BM25 results fused by reciprocal rank (hybrid), or either alone.

Only rows of a document's current version count (see `ingest`), and every passage carries
what a citation needs: file, page or slide, heading, and where in the page it sits.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np
from sqlmodel import col, select

from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput
from mai_tui.core.knowledge import collections
from mai_tui.core.knowledge.embedders import get_embedder
from mai_tui.core.knowledge.ingest import chunk_store
from mai_tui.core.knowledge.store import Hit
from mai_tui.core.store.models import KnowledgeCollection, KnowledgeDocument
from mai_tui.i18n import _

# Reciprocal rank fusion (Cormack et al. 2009) adds 1 / (RRF_K + rank) over the rankings. Their
# 60 suits long TREC runs; our rankings are 20 deep, where 10 lets a clear first place in either
# ranking count. On the labelled question set (tests/knowledge/questions.toml, MiniLM) hybrid
# hit@5 / MRR went from 0.69 / 0.564 at 60 to 0.76 / 0.577 at 10 (vector alone: 0.74 / 0.570).
RRF_K = 10
CANDIDATES = 4  # each ranking contributes k × this many candidates to the fusion


class Mode(StrEnum):
    HYBRID = "hybrid"
    VECTOR = "vector"
    TEXT = "text"  # BM25 only


@dataclass(frozen=True)
class Passage:
    collection: str
    document_id: int
    file: str
    path: str
    kind: str | None
    page: int | None  # page, or slide for a presentation
    heading: str | None
    text: str
    start: int
    end: int
    score: float  # what ranked it: fused RRF score (hybrid), cosine similarity (vector) or BM25 (text)
    similarity: float | None  # cosine similarity to the question, where known
    low_quality: bool = False

    @property
    def is_slide(self) -> bool:
        return self.kind == "pptx"

    def location(self) -> str:
        """`file.pdf, page 3` / `deck.pptx, slide 2` / `notes.md` — for citations."""
        if self.page is None:
            return self.file
        if self.is_slide:
            return _("{file}, slide {n}").format(file=self.file, n=self.page)
        return _("{file}, page {n}").format(file=self.file, n=self.page)

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["slide"] = self.page if self.is_slide else None
        data["page"] = None if self.is_slide else self.page
        return data


@dataclass(frozen=True)
class Scope:
    """What to search: whole collections, or some of their documents."""

    collection: KnowledgeCollection
    document_ids: tuple[int, ...] | None = None  # None: all of it


def _current(context: AppContext, scopes: Sequence[Scope]) -> dict[int, KnowledgeDocument]:
    """Searchable documents of the scopes, by id: those with an indexed version (also while a
    new version is being read, or after a re-read failed) made with their collection's embedder."""
    embedders = {s.collection.id: s.collection.embedder for s in scopes}
    with context.session(write=False) as session:
        found = session.exec(
            select(KnowledgeDocument).where(
                col(KnowledgeDocument.collection_id).in_(list(embedders)),
                col(KnowledgeDocument.indexed_version).is_not(None),
            )
        ).all()
        rows = [row for row in found if row.embedder == embedders[row.collection_id]]
        for row in rows:
            session.expunge(row)
    return {row.id or 0: row for row in rows}


def search(
    context: AppContext,
    scopes: Sequence[Scope],
    question: str,
    *,
    k: int | None = None,
    mode: Mode = Mode.HYBRID,
    min_score: float | None = None,
) -> list[Passage]:
    """The `k` best passages for `question` in `scopes`, best first.

    `min_score` drops passages whose cosine similarity to the question is below it.
    """
    if not question.strip():
        raise InvalidInput(_("nothing to search for: give a question"))
    settings = context.settings.knowledge
    k = k or settings.top_k
    if k < 1:
        raise InvalidInput(_("-k must be at least 1"))
    min_score = settings.min_score if min_score is None else min_score
    store = chunk_store(context)
    vectors: dict[str, np.ndarray] = {}
    limit = k * CANDIDATES
    # The database lookup and the BM25 searches need no query vector: they run while the
    # question is embedded, then the vector searches run side by side (LanceDB frees the GIL).
    with ThreadPoolExecutor(max_workers=4) as pool:
        current = pool.submit(_current, context, scopes)
        searches: list[tuple[str, Future[list[Hit]]]] = []
        if mode is not Mode.VECTOR:
            for scope in scopes:
                name = scope.collection.store_name
                searches.append((name, pool.submit(store.text_search, name, question, limit, scope.document_ids)))
        if mode is not Mode.TEXT or min_score is not None:  # the question's vector is needed
            for scope in scopes:
                embedder_name = scope.collection.embedder
                if embedder_name not in vectors:
                    embedder = get_embedder(embedder_name, settings=context.settings, secrets=context.secrets)
                    vectors[embedder_name] = embedder.embed_query(question)
        if mode is not Mode.TEXT:
            for scope in scopes:
                name, vector = scope.collection.store_name, vectors[scope.collection.embedder]
                searches.append((name, pool.submit(store.vector_search, name, vector, limit, scope.document_ids)))
        documents = current.result()
        rankings = [[(name, h) for h in future.result() if _trusted(h, documents)] for name, future in searches]
    by_id: dict[tuple[str, str], tuple[str, Hit]] = {}
    scores: dict[tuple[str, str], float] = {}
    similarity: dict[tuple[str, str], float] = {}
    for ranking in rankings:
        for rank, (store_name, hit) in enumerate(ranking):
            key = (store_name, hit.chunk.id)
            by_id.setdefault(key, (store_name, hit))
            if mode is Mode.HYBRID:
                scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank + 1)
            else:
                scores[key] = max(scores.get(key, float("-inf")), hit.score)
    if vectors:
        similarity = _similarities(scopes, vectors, by_id)
    if min_score is not None:
        scores = {key: s for key, s in scores.items() if similarity.get(key, -1.0) >= min_score}
    names = {s.collection.store_name: s.collection.name for s in scopes}
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
    passages = []
    for key, score in ranked:
        store_name, hit = by_id[key]
        document = documents[hit.chunk.document_id]
        passages.append(
            Passage(
                collection=names[store_name],
                document_id=hit.chunk.document_id,
                file=hit.chunk.file,
                path=document.path,
                kind=document.kind,
                page=hit.chunk.page,
                heading=hit.chunk.heading,
                text=hit.chunk.text,
                start=hit.chunk.start,
                end=hit.chunk.end,
                score=round(score, 6),
                similarity=None if key not in similarity else round(similarity[key], 4),
                low_quality=document.low_quality,
            )
        )
    return passages


def _trusted(hit: Hit, documents: dict[int, KnowledgeDocument]) -> bool:
    document = documents.get(hit.chunk.document_id)
    return document is not None and document.indexed_version == hit.chunk.version


def _similarities(
    scopes: Sequence[Scope], vectors: dict[str, np.ndarray], by_id: dict[tuple[str, str], tuple[str, Hit]]
) -> dict[tuple[str, str], float]:
    """Cosine similarity of each candidate to the question (vectors are unit length)."""
    embedder_of = {s.collection.store_name: s.collection.embedder for s in scopes}
    return {
        key: float(np.dot(hit.vector, vectors[embedder_of[key[0]]]))
        for key, (_store, hit) in by_id.items()
        if hit.vector is not None
    }


def scopes_for(context: AppContext, names: Sequence[str], files: Sequence[tuple[str, int]] = ()) -> list[Scope]:
    """Scopes for collections named `names` and single documents `(collection, document id)`."""
    scopes: dict[int, Scope] = {}
    with context.session(write=False) as session:
        for name in names:
            collection = collections.get(session, name)
            session.expunge(collection)
            scopes[collection.id or 0] = Scope(collection)
        for name, document_id in files:
            collection = collections.get(session, name)
            session.expunge(collection)
            existing = scopes.get(collection.id or 0)
            if existing is not None and existing.document_ids is None:
                continue
            ids = (*(existing.document_ids or ()), document_id) if existing else (document_id,)
            scopes[collection.id or 0] = Scope(collection, ids)
    return list(scopes.values())
