"""Real speech for the voice tests: English sentences spoken by espeak-ng, in several formats.

Everything is generated once per test session into a temporary folder, and the speech model
(the bundled tiny.en) is loaded once for the tests that call the core directly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mai_tui.core.voice.transcribe import SAMPLE_RATE, Transcriber, decode
from tests.cli.conftest import Mai, mai

__all__ = ["MORE_SENTENCES", "SENTENCES", "Mai", "Speech", "mai", "words"]

# Chosen because tiny.en hears them word for word at several speeds and compressions.
SENTENCES = [
    "Please call me back tomorrow morning.",
    "We will meet at the station after lunch.",
    "The children are playing in the garden.",
]
# The long clip: about 90 s of different sentences, spoken twice. Never the same sentence twice
# within one 30 s window, or Whisper's repetition guard would fall back to random sampling.
MORE_SENTENCES = [
    "Our team finished the new design last week, and the first tests look very good.",
    "The library opens at nine and closes early on Sundays.",
    "If the weather stays dry, we could walk along the river to the old bridge.",
    "My sister is learning to play the piano, and she practises every evening.",
    "Remember to water the plants while I am away on holiday.",
    "The price of fresh vegetables has gone up again this month.",
    "He wrote a long letter to his grandmother about his first day at school.",
    "The museum has a large collection of paintings from the last century.",
    "Could you send me the numbers before the meeting on Thursday?",
    "A small cat was sleeping on the warm roof of the car.",
    "The doctor said that I should drink more water and sleep longer.",
    "We are planning a trip to the mountains at the end of the summer.",
]
MAI = [sys.executable, "-m", "mai_tui"]


def words(text: str) -> list[str]:
    """Lowercase words without punctuation: what the comparisons look at."""
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


@dataclass(frozen=True)
class Speech:
    folder: Path
    files: dict[str, Path]  # format -> the same three sentences in that format
    long: Path  # SENTENCES + MORE_SENTENCES, twice: about three minutes, long enough to interrupt
    text: str

    @property
    def wav(self) -> Path:
        return self.files["wav"]


def _run(*args: str) -> None:
    if args[0] == "sox":  # no dither: the same samples every run, and silence stays silent
        args = ("sox", "-D", "-R", *args[1:])
    subprocess.run(args, check=True, capture_output=True)


def _encode(samples: object, path: Path, container: str, codec: str, rate: int) -> None:
    """Write 16 kHz mono samples with PyAV (mp3, m4a and webm, which sox cannot write here)."""
    import av
    import numpy

    pcm = (numpy.asarray(samples) * 32767).astype(numpy.int16).reshape(1, -1)
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed by the voice tests (the project installs it: make system-packages)")
    folder = tmp_path_factory.mktemp("speech")
    text = " ".join(SENTENCES)
    raw = folder / "raw.wav"
    _run("espeak-ng", "-v", "en-us", "-s", "130", "-g", "6", "-w", str(raw), text)
    wav = folder / "speech.wav"
    _run("sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav))
    files = {"wav": wav}
    for kind in ("flac", "ogg"):
        files[kind] = folder / f"speech.{kind}"
        _run("sox", str(wav), str(files[kind]))
    samples = decode(wav)
    for kind, container, codec, rate in (
        ("mp3", "mp3", "libmp3lame", 16000),
        ("m4a", "ipod", "aac", 16000),
        ("webm", "webm", "libopus", 48000),
    ):
        files[kind] = folder / f"speech.{kind}"
        _encode(samples, files[kind], container, codec, rate)
    _run("espeak-ng", "-v", "en-us", "-s", "130", "-g", "6", "-w", str(raw), " ".join(SENTENCES + MORE_SENTENCES))
    once, long = folder / "once.wav", folder / "long.wav"
    _run("sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(once))
    _run("sox", str(once), str(once), str(long))
    return Speech(folder, files, long, text)


@pytest.fixture(scope="session")
def transcriber() -> Transcriber:
    model = Transcriber()
    model.load()
    return model


@pytest.fixture(scope="session")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files that are not audio, each named as if it were."""
    import random

    folder = tmp_path_factory.mktemp("broken")
    files = {
        "random": folder / "noise.mp3",
        "empty": folder / "empty.wav",
        "text": folder / "notes.wav",
        "missing": folder / "missing.ogg",
    }
    files["random"].write_bytes(random.Random(7).randbytes(20_000))  # noqa: S311 - the same bytes every run
    files["empty"].write_bytes(b"")
    files["text"].write_text("This is a shopping list, not a recording.\n")
    return files


@pytest.fixture
def fake_sounddevice(tmp_path: Path) -> Callable[[str], dict[str, str]]:
    """An environment whose `import sounddevice` finds the given module source first.

    The subprocess then runs the real `mai` with a real (failing or scripted) import.
    """
    import os

    def environment(source: str) -> dict[str, str]:
        folder = tmp_path / "fake_sounddevice"
        folder.mkdir(exist_ok=True)
        (folder / "sounddevice.py").write_text(source)
        paths = [str(folder), os.environ.get("PYTHONPATH", "")]
        return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}

    return environment
