"""The speech model on real speech: formats, segments, cancelling, files that are not audio."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from mai_tui.core.errors import InvalidInput
from mai_tui.core.voice.transcribe import Cancelled, Segment, Transcriber, VoiceError, decode
from tests.voice.conftest import SENTENCES, Speech, words


@pytest.mark.parametrize("kind", ["wav", "flac", "ogg", "mp3", "m4a", "webm"])
def test_every_format_is_heard_word_for_word(speech: Speech, transcriber: Transcriber, kind: str) -> None:
    transcript = transcriber.transcribe(speech.files[kind])
    assert words(transcript.text) == words(speech.text)
    assert transcript.language == "en"
    assert transcript.duration == pytest.approx(len(decode(speech.wav)) / 16_000, abs=0.2)  # codec padding


def test_segments_arrive_in_order_with_timestamps_inside_the_clip(speech: Speech, transcriber: Transcriber) -> None:
    seen: list[Segment] = []
    transcript = transcriber.transcribe(speech.wav, on_segment=seen.append)
    assert seen == transcript.segments
    assert len(seen) >= 2
    assert [w for s in seen for w in words(s.text)] == words(speech.text)
    for segment in seen:
        assert 0 <= segment.start < segment.end <= transcript.duration
    assert all(a.end <= b.start for a, b in itertools.pairwise(seen))


def test_samples_in_memory_are_transcribed_like_the_file(speech: Speech, transcriber: Transcriber) -> None:
    assert words(transcriber.transcribe(decode(speech.wav)).text) == words(speech.text)


def test_setting_cancel_after_the_first_segment_stops_the_transcription(
    speech: Speech, transcriber: Transcriber
) -> None:
    cancel = threading.Event()
    seen: list[Segment] = []

    def first_then_stop(segment: Segment) -> None:
        seen.append(segment)
        cancel.set()

    with pytest.raises(Cancelled, match="stopped"):
        transcriber.transcribe(speech.long, on_segment=first_then_stop, cancel=cancel)
    assert len(seen) == 1
    assert words(seen[0].text)[:6] == words(SENTENCES[0])


def test_files_that_are_not_audio_say_so(broken: dict[str, Path], tmp_path: Path) -> None:
    expected = {
        "random": "noise.mp3: not an audio file, or damaged",
        "empty": "empty.wav: the file is empty",
        "text": "notes.wav: not an audio file, or damaged",
        "missing": "missing.ogg: no such file",
    }
    for name, message in expected.items():
        with pytest.raises(VoiceError, match=message):
            decode(broken[name])
    with pytest.raises(VoiceError, match="is a folder"):
        decode(tmp_path)


def test_a_video_without_sound_has_no_audio_track(tmp_path: Path) -> None:
    import av
    import numpy

    path = tmp_path / "silent-film.mp4"
    with av.open(str(path), "w") as film:
        stream = film.add_stream("mpeg4", rate=5)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width = stream.height = 32
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(numpy.zeros((32, 32, 3), dtype=numpy.uint8), format="rgb24")
            for packet in stream.encode(frame):
                film.mux(packet)
        for packet in stream.encode(None):
            film.mux(packet)
    with pytest.raises(VoiceError, match="has no audio track"):
        decode(path)


def test_silence_gives_an_empty_transcript(tmp_path: Path, transcriber: Transcriber) -> None:
    import numpy

    transcript = transcriber.transcribe(numpy.zeros(3 * 16_000, dtype=numpy.float32))
    assert (transcript.segments, transcript.text) == ([], "")


def test_the_english_only_model_refuses_another_language_before_loading() -> None:
    with pytest.raises(InvalidInput, match=r"tiny\.en knows only English; for 'de'"):
        Transcriber(language="de")
    assert Transcriber(language=" EN ").language == "en"
    assert Transcriber().language == "en"


def test_long_audio_goes_through_in_pieces_cut_between_words(
    speech: Speech, transcriber: Transcriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pieces keep memory flat on long recordings; the transcript reads as if in one go."""
    whole = transcriber.transcribe(speech.wav)
    monkeypatch.setattr(transcriber, "piece_seconds", 4.0)  # three pieces of this 11 s clip
    seen: list[Segment] = []
    pieces = transcriber.transcribe(speech.wav, on_segment=seen.append)
    assert seen == pieces.segments
    assert words(pieces.text) == words(speech.text) == words(whole.text)
    assert pieces.language == whole.language
    assert pieces.duration == pytest.approx(whole.duration)
    assert pieces.segments[-1].start > 6  # timestamps count from the start of the clip, not of the piece
    assert all(a.end <= b.start for a, b in itertools.pairwise(pieces.segments))
    assert pieces.segments[-1].end <= pieces.duration + 0.005  # times are rounded to 0.01 s


def test_auto_means_detect_and_an_unknown_code_is_refused_before_loading() -> None:
    from mai_tui.core.errors import InvalidInput
    from mai_tui.core.voice.transcribe import Transcriber

    assert Transcriber("bundled", language="auto").language == "en"  # English-only: English
    assert Transcriber("some/multilingual-model", language="AUTO").language is None  # detected
    with pytest.raises(InvalidInput, match="not a language code"):
        Transcriber("some/multilingual-model", language="english")


def test_a_model_path_that_does_not_exist_says_so(tmp_path: Path) -> None:
    from mai_tui.core.voice.transcribe import VoiceError, resolve_model

    with pytest.raises(VoiceError, match="no such folder"):
        resolve_model(str(tmp_path / "models" / "whispr-small"))
    assert resolve_model("Systran/faster-whisper-small") == "Systran/faster-whisper-small"  # a hub name
