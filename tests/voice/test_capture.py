"""Recording: frames through `Recorder.feed` (the PortAudio callback's path), level, time, limit."""

from __future__ import annotations

from typing import Any

import numpy
import pytest

from mai_tui.core.voice.capture import BLOCK, Recorder
from mai_tui.core.voice.transcribe import SAMPLE_RATE, Transcriber, decode
from tests.voice.conftest import Speech, words


def blocks(samples: Any) -> list[Any]:
    """0.1 s blocks, shaped like PortAudio hands them over: (frames, channels)."""
    return [samples[i : i + BLOCK].reshape(-1, 1) for i in range(0, len(samples), BLOCK)]


def test_recorded_speech_is_transcribed_word_for_word(speech: Speech, transcriber: Transcriber) -> None:
    samples = decode(speech.wav)
    recorder = Recorder(max_seconds=60)
    for block in blocks(samples):
        recorder.feed(block[:, 0])
    assert not recorder.stopped.is_set()
    assert recorder.seconds == pytest.approx(len(samples) / SAMPLE_RATE)
    recorded = recorder.stop()
    assert recorder.stopped.is_set()
    assert numpy.array_equal(recorded, samples)
    assert words(transcriber.transcribe(recorded).text) == words(speech.text)


def test_seconds_and_level_follow_every_block(speech: Speech) -> None:
    samples = decode(speech.wav)
    recorder = Recorder(max_seconds=60)
    recorder.feed(numpy.zeros(BLOCK, dtype=numpy.float32))
    assert recorder.seconds == pytest.approx(0.1)
    assert recorder.level == 0.0
    loudest = max(range(0, len(samples), BLOCK), key=lambda i: float(numpy.abs(samples[i : i + BLOCK]).max()))
    block = samples[loudest : loudest + BLOCK]
    recorder.feed(block)
    assert recorder.seconds == pytest.approx(0.2)
    assert recorder.level == pytest.approx(float(numpy.sqrt(numpy.mean(block**2))))
    assert 0.01 < recorder.level < 1
    recorder.feed(numpy.zeros(BLOCK, dtype=numpy.float32))
    assert recorder.level == 0.0  # the latest block, not an average


def test_max_seconds_stops_the_recording_exactly_at_the_limit(speech: Speech) -> None:
    samples = decode(speech.wav)
    recorder = Recorder(max_seconds=5.05)  # not a whole number of blocks: the last one is cut
    fed = 0
    for block in blocks(samples):
        if recorder.stopped.is_set():
            break
        recorder.feed(block[:, 0])
        fed += 1
    assert fed == 51
    assert recorder.stopped.is_set()
    assert recorder.seconds == pytest.approx(5.05)
    recorder.feed(samples[:BLOCK])  # frames after the stop are dropped
    assert recorder.seconds == pytest.approx(5.05)
    recorded = recorder.stop()
    assert numpy.array_equal(recorded, samples[: int(5.05 * SAMPLE_RATE)])


def test_stopping_before_any_frame_gives_no_samples() -> None:
    recorder = Recorder(max_seconds=10)
    recorded = recorder.stop()
    assert (len(recorded), recorded.dtype) == (0, numpy.float32)
    recorder.feed(numpy.ones(BLOCK, dtype=numpy.float32))
    assert recorder.seconds == 0
