"""The knowledge base: ingest speed on real documents, and query latency at 100,000 chunks.

    python benchmarks/knowledge.py [--chunks 100000] [--embedder minilm] [--skip-ingest]

1. Ingest the 872-page handbook DOCX and every PDF in fixtures/docs/pdf into a fresh
   collection: chunks/s, pages/s, and the time spent outside embedding as a share of the
   embedding time (target: ≤ 25 %).
2. Query latency at CHUNKS chunks. Embedding 100,000 real chunks takes over an hour here, so
   the scale collection holds synthetic text (words drawn from tinyshakespeare.txt) with
   random unit vectors, written through the same store and metadata as real documents.
   Reported: the query embedding alone, vector search, BM25 search, and the whole hybrid
   `retrieval.search` (which includes the query embedding), p50/p95 over 200 questions.
3. Peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isolation import isolate

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "docs"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def timed(calls: list[Callable[[], object]]) -> list[float]:
    samples = []
    for call in calls:
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    isolate("mai-bench-kb-")

    from mai_tui.core.context import load_context
    from mai_tui.core.knowledge import manage

    context = load_context()
    if not args.skip_ingest:
        ingest(context, args.embedder)
    scale(context, args.chunks, args.embedder)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS: {rss:.0f} MB")
    manage.overview(context)  # the database is still readable after all of it


def ingest(context: object, embedder: str) -> None:
    from mai_tui.core.context import AppContext
    from mai_tui.core.knowledge import manage
    from mai_tui.core.knowledge.embedders import get_embedder
    from mai_tui.core.knowledge.ingest import Ingest, Outcome

    assert isinstance(context, AppContext)
    began = time.perf_counter()
    get_embedder(embedder).embed_passages(["warm up"])
    print(f"embedder {embedder} loaded in {time.perf_counter() - began:.2f} s")
    manage.create_collection(context, "bench", embedder=embedder)
    files = [FIXTURES / "docx" / "us-trustee-chapter13-handbook-872p.docx", *sorted((FIXTURES / "pdf").glob("*.pdf"))]
    print(f"\n{'file':48} {'pages':>5} {'chunks':>6} {'total s':>8} {'embed s':>8} {'other/embed':>11}")
    run = Ingest(context, "bench")
    summary = run.run(files)
    for result in summary.results:
        assert result.outcome is Outcome.INDEXED, (result.path, result.message)
        other = result.seconds - result.embed_seconds
        print(
            f"{result.path.name[:48]:48} {result.pages:5} {result.chunks:6} {result.seconds:8.2f} "
            f"{result.embed_seconds:8.2f} {other / result.embed_seconds:10.1%}"
        )
    seconds = sum(r.seconds for r in summary.results)
    embed = sum(r.embed_seconds for r in summary.results)
    print(
        f"all: {summary.pages} pages, {summary.chunks} chunks in {seconds:.1f} s: "
        f"{summary.chunks / seconds:.1f} chunks/s, {summary.pages / seconds:.1f} pages/s; "
        f"embedding {embed:.1f} s, everything else {seconds - embed:.1f} s = {(seconds - embed) / embed:.1%} "
        f"of the embedding time (run incl. index optimise: {summary.seconds:.1f} s)"
    )


def scale(context: object, count: int, embedder_name: str) -> None:
    import numpy as np

    from mai_tui.core.context import AppContext
    from mai_tui.core.knowledge import manage
    from mai_tui.core.knowledge.embedders import get_embedder
    from mai_tui.core.knowledge.ingest import chunk_store
    from mai_tui.core.knowledge.retrieval import Mode, scopes_for, search
    from mai_tui.core.knowledge.store import StoredChunk
    from mai_tui.core.store.models import DocumentStatus, KnowledgeDocument
    from mai_tui.core.store.types import utcnow

    assert isinstance(context, AppContext)
    rng = random.Random(7)  # noqa: S311 - reproducible data
    words = (FIXTURES / "text" / "tinyshakespeare.txt").read_text().split()
    embedder = get_embedder(embedder_name)
    collection = manage.create_collection(context, "scale", embedder=embedder_name)
    store = chunk_store(context)
    per_document = 1000
    documents = max(1, count // per_document)
    began = time.perf_counter()
    generator = np.random.default_rng(7)
    with context.session() as session:
        rows = []
        for n in range(documents):
            version = hashlib.sha256(f"doc{n}".encode()).hexdigest()
            rows.append(
                KnowledgeDocument(
                    collection_id=collection.id or 0,
                    path=f"/synthetic/doc{n}.txt",
                    path_hash=hashlib.sha256(f"/synthetic/doc{n}.txt".encode()).hexdigest(),
                    name=f"doc{n}.txt",
                    kind="text",
                    content_hash=version,
                    pages=1,
                    chunks=per_document,
                    status=DocumentStatus.INDEXED.value,
                    embedder=embedder_name,
                    indexed_at=utcnow(),
                )
            )
        session.add_all(rows)
        session.flush()
        ids = [(row.id or 0, row.content_hash or "") for row in rows]
    for document_id, version in ids:
        chunks = [
            StoredChunk(document_id, version, i, " ".join(rng.choices(words, k=160)), "s.txt", None, None, 0, 9)
            for i in range(per_document)
        ]
        vectors = generator.standard_normal((per_document, embedder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.add(collection.store_name, chunks, vectors)
    store.optimize(collection.store_name)
    written = time.perf_counter() - began
    print(f"\nscale collection: {store.count(collection.store_name)} chunks written in {written:.1f} s")
    questions = [" ".join(rng.choices(words, k=8)) for _ in range(200)]
    scopes = scopes_for(context, ["scale"])
    search(context, scopes, questions[0])  # warm-up
    name = collection.store_name

    def embed(q: str) -> Callable[[], object]:
        return lambda: embedder.embed_query(q)

    def vector(v: np.ndarray) -> Callable[[], object]:
        return lambda: store.vector_search(name, v, 20)

    def text(q: str) -> Callable[[], object]:
        return lambda: store.text_search(name, q, 20)

    def full(q: str, mode: Mode) -> Callable[[], object]:
        return lambda: search(context, scopes, q, k=5, mode=mode)

    print(f"query embedding ({embedder_name}): " + percentiles(timed([embed(q) for q in questions])))
    vectors_q = [embedder.embed_query(q) for q in questions]
    print("vector search, top 20:      " + percentiles(timed([vector(v) for v in vectors_q])))
    print("BM25 search, top 20:        " + percentiles(timed([text(q) for q in questions])))
    for mode in (Mode.VECTOR, Mode.TEXT, Mode.HYBRID):
        label = f"search() {mode.value}, k=5:"
        print(f"{label:28}" + percentiles(timed([full(q, mode) for q in questions])))


if __name__ == "__main__":
    main()
