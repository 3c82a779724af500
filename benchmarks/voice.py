"""Offline speech to text: how much faster than real time the bundled tiny.en model runs.

    python benchmarks/voice.py [--runs 3] [--keep]

1. Speech: about 90 s of different English sentences spoken by espeak-ng (16 kHz mono),
   repeated and cut into a ~30 s and a ~5 min clip (repetition never falls inside one 30 s
   window, so Whisper's repetition guard does not kick in and sample).
2. Model: the time to import faster-whisper, and to load tiny.en (CTranslate2, int8, CPU).
3. Each clip: decoding the file with PyAV, then transcribing it greedily (beam_size=1, as
   `mai voice` does); "x real time" is the audio's length over decode + transcription time
   (best of --runs), and the word error rate against the spoken text.
4. `mai voice transcribe` on the 30 s clip as a person runs it: a new process, the model
   loaded once, wall time from start to exit.
Peak RSS is the process's high-water mark (getrusage) after each step. Target: >= 15x real
time on 2 cores. Everything runs offline in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.voice.conftest import MORE_SENTENCES, SENTENCES

TARGET = 15.0  # x real time

TEXT = [*SENTENCES, *MORE_SENTENCES]  # the tests' varied sentences (no repetition within 30 s)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def word_error_rate(reference: list[str], heard: list[str]) -> float:
    """Levenshtein distance over words, divided by the reference length."""
    previous = list(range(len(heard) + 1))
    for i, expected in enumerate(reference, 1):
        current = [i]
        for j, got in enumerate(heard, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (expected != got)))
        previous = current
    return previous[-1] / max(1, len(reference))


def make_clips(folder: Path) -> tuple[Path, Path, float]:
    """(~30 s clip, ~5 min clip, seconds of one reading of TEXT)."""
    raw, once = folder / "raw.wav", folder / "once.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "130", "-g", "6", "-w", str(raw), " ".join(TEXT)], check=True)
    subprocess.run(["sox", "-D", "-R", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(once)], check=True)
    reading = float(subprocess.run(["soxi", "-D", str(once)], capture_output=True, text=True, check=True).stdout)
    short, long = folder / "clip-30s.wav", folder / "clip-5min.wav"
    subprocess.run(["sox", "-D", "-R", str(once), str(short), "trim", "0", "30"], check=True)
    repeats = int(300 // reading) + 1
    subprocess.run(["sox", "-D", "-R", *[str(once)] * repeats, str(long), "trim", "0", "300"], check=True)
    return short, long, reading


def expected_words(seconds: float, reading: float) -> list[str]:
    """The words spoken in the first `seconds` (whole readings, then the share of the last one)."""
    per_reading = words(" ".join(TEXT))
    whole, part = divmod(seconds, reading)
    return per_reading * int(whole) + per_reading[: round(len(per_reading) * part / reading)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3, help="transcriptions per clip (the best counts)")
    parser.add_argument("--keep", action="store_true", help="keep the generated clips")
    args = parser.parse_args()
    for tool in ("espeak-ng", "sox", "soxi"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (make system-packages)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    folder = Path(tempfile.mkdtemp(prefix="mai-voice-bench-"))
    short, long, reading = make_clips(folder)

    start = time.perf_counter()
    import faster_whisper  # noqa: F401 - timed: the import is part of a command's first second

    imported = time.perf_counter() - start
    from mai_tui.core.voice.transcribe import SAMPLE_RATE, Transcriber, decode

    transcriber = Transcriber(beam_size=1)
    start = time.perf_counter()
    transcriber.load()
    loaded = time.perf_counter() - start
    rows: list[tuple[str, str, str, str, str, str, str]] = []
    print(f"cores: {os.cpu_count()}, model tiny.en (bundled, int8, CPU), greedy (beam_size=1), best of {args.runs}")
    print(f"import faster_whisper: {imported:.2f} s, load model: {loaded:.2f} s, peak RSS {peak_rss_mb():.0f} MB")
    print()
    for label, clip in (("~30 s", short), ("~5 min", long)):
        best_decode = best_total = float("inf")
        text = ""
        for _ in range(args.runs):
            start = time.perf_counter()
            samples = decode(clip)
            decoded = time.perf_counter() - start
            transcript = transcriber.transcribe(samples)
            total = time.perf_counter() - start
            best_decode, best_total = min(best_decode, decoded), min(best_total, total)
            text = transcript.text
        seconds = len(samples) / SAMPLE_RATE
        wer = word_error_rate(expected_words(seconds, reading), words(text))
        rows.append(
            (
                label,
                f"{seconds:.1f}",
                f"{best_decode:.2f}",
                f"{best_total - best_decode:.2f}",
                f"{seconds / best_total:.1f}x",
                f"{wer:.1%}",
                f"{peak_rss_mb():.0f}",
            )
        )

    headers = ("clip", "audio s", "decode s", "transcribe s", "x real time", "WER", "peak RSS MB")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print()

    env = {**os.environ, "XDG_CONFIG_HOME": str(folder / "config"), "XDG_DATA_HOME": str(folder / "data")}
    env["XDG_STATE_HOME"] = str(folder / "state")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mai_tui", "voice", "transcribe", str(short)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    command = time.perf_counter() - start
    print(f"`mai voice transcribe` on the ~30 s clip, a new process: {command:.2f} s wall time")
    slowest = min(float(r[4].rstrip("x")) for r in rows)
    verdict = "met" if slowest >= TARGET else "NOT met"
    print(f"target >= {TARGET:.0f}x real time: {verdict} (slowest {slowest:.1f}x)")
    if args.keep:
        print(f"clips kept in {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
