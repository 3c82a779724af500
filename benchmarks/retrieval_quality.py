"""Retrieval quality on the labelled question set, per embedder and search mode.

    python benchmarks/retrieval_quality.py [--embedders minilm,e5-multilingual] [--misses]

Indexes the fixture documents the questions name (tests/knowledge/questions.toml) into one
fresh collection per embedder, runs every question in vector, BM25 and hybrid mode, and
prints hit@1/3/5 and MRR@10 overall, for questions in the document's language, and for
questions in another language; then the ingest time and the query latency (p50/p95 of
`retrieval.search`, query embedding included) per mode. `--misses` lists the questions each
mode did not answer within 5 passages, with where its best passage came from.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isolation import isolate

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures" / "docs"
QUESTIONS = ROOT / "tests" / "knowledge" / "questions.toml"


def documents(names: set[str]) -> list[Path]:
    found = {path.name: path for path in FIXTURES.rglob("*") if path.is_file() and "bad" not in path.parts}
    missing = sorted(names - found.keys())
    if missing:
        sys.exit(f"fixture documents not found under {FIXTURES}: {', '.join(missing)}")
    return sorted(found[name] for name in names)


def latency(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedders", default="minilm,e5-multilingual")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    isolate("mai-bench-quality-")

    from mai_tui.core.context import load_context
    from mai_tui.core.knowledge import manage
    from mai_tui.core.knowledge.evaluate import ModeReport, evaluate, load_questions
    from mai_tui.core.knowledge.ingest import Ingest, Outcome
    from mai_tui.core.knowledge.retrieval import Mode

    context = load_context()
    questions = load_questions(QUESTIONS)
    files = documents({q.file for q in questions})
    cross = sum(1 for q in questions if q.cross_language)
    same = len(questions) - cross
    print(f"{len(questions)} questions ({same} same-language, {cross} cross-language) over {len(files)} files")

    results: dict[str, dict[Mode, ModeReport]] = {}
    ingest: dict[str, tuple[float, int]] = {}
    for embedder in [e.strip() for e in args.embedders.split(",") if e.strip()]:
        collection = f"eval-{embedder}"
        manage.create_collection(context, collection, embedder=embedder)
        began = time.perf_counter()
        summary = Ingest(context, collection).run(files)
        ingest[embedder] = (time.perf_counter() - began, summary.chunks)
        failed = [r.path.name for r in summary.results if r.outcome is not Outcome.INDEXED]
        if failed:
            sys.exit(f"{embedder}: could not index {', '.join(failed)}")
        results[embedder] = evaluate(context, collection, questions)

    header = f"{'embedder':16} {'mode':7} {'subset':6} {'n':>3}  {'hit@1':>5} {'hit@3':>5} {'hit@5':>5} {'MRR@10':>6}"
    print("\n" + header + "\n" + "-" * len(header))
    for embedder, reports in results.items():
        for mode, report in reports.items():
            for subset, metrics in (
                ("all", report.overall),
                ("same", report.same_language),
                ("cross", report.cross_language),
            ):
                hits = "".join(f" {metrics.hits[k]:5.2f}" for k in (1, 3, 5))
                print(f"{embedder:16} {mode.value:7} {subset:6} {metrics.n:3d} {hits} {metrics.mrr:6.3f}")
        print()

    print("ingest (the question set's files)")
    for embedder, (seconds, chunks) in ingest.items():
        print(f"  {embedder:16} {seconds:6.1f} s   {chunks} chunks   {chunks / seconds:6.1f} chunks/s")
    print("\nquery latency (retrieval.search, 10 passages, query embedding included)")
    for embedder, reports in results.items():
        for mode, report in reports.items():
            print(f"  {embedder:16} {mode.value:7} {latency(report.seconds)}")

    if args.misses:
        for embedder, reports in results.items():
            for mode, report in reports.items():
                print(f"\nmissed within 5: {embedder} {mode.value}")
                for outcome in report.misses:
                    q = outcome.question
                    print(f"  [{q.lang}->{q.doc_lang}] {q.question[:70]!r} want {q.file} {q.pages}; top: {outcome.top}")


if __name__ == "__main__":
    main()
