"""`mai voice transcribe|note|devices`: speech to text, offline, from files or the microphone.

The speech model loads once per command. Work runs in a worker thread, so Ctrl+C reaches
the command at once, even in the middle of a long decode: the worker is told to stop and
what was transcribed so far is printed before the exit (130).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from mai_tui.cli.output import context, print_json, print_table, say, warn
from mai_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from mai_tui.config import VoiceSettings
    from mai_tui.core.voice.capture import Recorder
    from mai_tui.core.voice.transcribe import Segment, Transcriber, Transcript

app = typer.Typer(help=_("Voice notes: transcribe audio files or the microphone, offline."), no_args_is_help=True)

JsonOut = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]
Language = Annotated[
    str | None,
    typer.Option("--language", "-l", help=_("Language of the speech, e.g. en (default: the voice.language setting).")),
]

T = TypeVar("T")


# --- shared -------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    """0:05, 12:40, 1:02:03."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _segment_json(segment: Segment) -> dict[str, Any]:
    return {"start": segment.start, "end": segment.end, "text": segment.text}


def _transcriber(settings: VoiceSettings, language: str | None) -> Transcriber:
    """The configured model; `--language` wins over voice.language (checked before any work)."""
    from mai_tui.core.voice.transcribe import Transcriber

    return Transcriber(settings.model, language=language or settings.language, beam_size=1)


def _model_name(transcriber: Transcriber) -> str:
    from mai_tui.core.voice.transcribe import BUNDLED

    return "tiny.en" if transcriber.model == BUNDLED else transcriber.model


def _in_worker(work: Callable[[], T], cancel: threading.Event) -> T:
    """`work()` in a daemon thread; Ctrl+C sets `cancel` and is raised here at once."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the waiting thread, re-raised there
            outcome["error"] = error

    worker = threading.Thread(target=target, name="mai-voice", daemon=True)
    worker.start()
    try:
        worker.join()  # lock waits are interruptible: Ctrl+C lands here without delay
    except KeyboardInterrupt:
        cancel.set()  # the worker stops at its next segment; the process leaves without it
        raise
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


# --- mai voice transcribe -----------------------------------------------------------------


@dataclass
class _FileResult:
    file: str
    status: str = "running"  # ok | failed | interrupted
    error: str | None = None
    language: str | None = None
    duration: float | None = None
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "error": self.error,
            "language": self.language,
            "duration_s": self.duration,
            "text": self.text if self.status != "failed" else None,
            "segments": [_segment_json(s) for s in self.segments],
        }


class _Batch:
    """Transcribes files one after another; each file's failure is its own."""

    def __init__(self, transcriber: Transcriber, files: list[Path], *, json_out: bool, progress: bool) -> None:
        self.transcriber = transcriber
        self.files = files
        self.json_out = json_out
        self.progress = progress
        self.results: list[_FileResult] = []
        self.cancel = threading.Event()
        self.headers = 0  # files shown so far in text mode

    def run(self) -> None:
        from mai_tui.core.voice.transcribe import Cancelled

        self.transcriber.load()  # once for every file; a model error stops the command here
        for path in self.files:
            if self.cancel.is_set():
                return
            result = _FileResult(str(path))
            self.results.append(result)
            try:
                self._one(path, result)
            except Cancelled:
                result.status = "interrupted"
                return
            except Exception as error:  # MaiError: its message; anything else: one line, the batch goes on
                from mai_tui.core.errors import MaiError

                if not isinstance(error, MaiError):
                    import logging

                    logging.getLogger("mai_tui").exception("transcribing %s", path)
                message = (
                    str(error)
                    if isinstance(error, MaiError)
                    else _("{path}: cannot transcribe ({reason})").format(path=path.name, reason=type(error).__name__)
                )
                result.status, result.error = "failed", message
                warn(_("mai: {message}").format(message=message))
            else:
                result.status = "ok"

    def _one(self, path: Path, result: _FileResult) -> None:
        from mai_tui.core.voice.transcribe import SAMPLE_RATE, decode

        samples = decode(path)
        if len(self.files) > 1 and not self.json_out:
            if self.headers:
                say("")
            self.headers += 1
            say(_("==> {file} <==").format(file=path))
            sys.stdout.flush()
        duration = len(samples) / SAMPLE_RATE
        if self.progress:
            warn(_("{file}: {duration} of audio").format(file=path.name, duration=_clock(duration)))

        def shown(segment: Segment) -> None:
            result.segments.append(segment)
            if not self.json_out and segment.text:
                say(segment.text)
                sys.stdout.flush()
            if self.progress:
                done = min(100, round(100 * segment.end / duration)) if duration else 100
                warn(f"{path.name} {done:3d}% [{_clock(segment.start)}–{_clock(segment.end)}] {segment.text}")

        transcript = self.transcriber.transcribe(samples, on_segment=shown, cancel=self.cancel)
        result.language, result.duration = transcript.language, round(transcript.duration, 2)
        if not transcript.segments:
            warn(_("mai: {file}: no speech heard").format(file=path.name))

    def interrupted(self) -> None:
        """Ctrl+C: mark the file in progress, print what is done (text was already streamed)."""
        for result in self.results:
            if result.status == "running":
                result.status = "interrupted"
        if self.json_out:
            self.print_json()
        sys.stdout.flush()

    def print_json(self) -> None:
        print_json(
            {
                "model": _model_name(self.transcriber),
                "interrupted": self.cancel.is_set(),
                "files": [r.as_dict() for r in self.results],
            }
        )


TRANSCRIBE_HELP = _(
    "Transcribe audio files (wav, mp3, m4a, ogg, webm, flac …) offline. Text: each file's "
    "segments on stdout as they are decoded (with a '==> FILE <==' header when there are several). "
    "--json: one object at the end, "
    '{"model", "interrupted", "files": [{"file", "status" (ok|failed|interrupted), "error", '
    '"language", "duration_s", "text", "segments": [{"start", "end", "text"}]}]} with times in seconds. '
    "Progress goes to stderr (when it is a terminal) if stdout is JSON or not a terminal. "
    "A file that cannot be read is reported and the others are still done (exit 1 at the end). "
    "Ctrl+C stops: what was transcribed so far is printed (exit 130)."
)


@app.command("transcribe", help=TRANSCRIBE_HELP)
def transcribe(
    files: Annotated[list[Path], typer.Argument(metavar="FILE…", help=_("Audio files."), show_default=False)],
    language: Language = None,
    json_out: JsonOut = False,
) -> None:
    settings = context().settings.voice
    transcriber = _transcriber(settings, language)
    progress = sys.stderr.isatty() and (json_out or not sys.stdout.isatty())
    batch = _Batch(transcriber, files, json_out=json_out, progress=progress)
    try:
        _in_worker(batch.run, batch.cancel)
    except KeyboardInterrupt:
        batch.interrupted()
        raise
    if json_out:
        batch.print_json()
    failed = sum(1 for r in batch.results if r.status == "failed")
    if failed:
        if len(files) > 1:
            warn(
                ngettext(
                    "mai: {failed} of {n} file could not be transcribed",
                    "mai: {failed} of {n} files could not be transcribed",
                    len(files),
                ).format(failed=failed, n=len(files))
            )
        raise typer.Exit(1)


# --- mai voice note -----------------------------------------------------------------------


def _meter(recorder: Recorder, limit: float) -> str:
    bars = min(10, round(recorder.level * 40))  # speech sits around 0.05-0.25 RMS
    return _("● recording {seconds} / {limit}  {meter}  Ctrl+C stops").format(
        seconds=_clock(recorder.seconds), limit=_clock(limit), meter="▮" * bars + "▯" * (10 - bars)
    )


def _record(recorder: Recorder, device: int | None, limit: float, on_open: Callable[[], None]) -> Any:
    """Record until Ctrl+C or the limit; the samples. No PortAudio, no microphone: VoiceError."""
    live = sys.stderr.isatty()
    recorder.start(device)
    try:
        on_open()
        if not live:
            warn(_("Recording (at most {limit}); Ctrl+C stops.").format(limit=_clock(limit)))
        while not recorder.stopped.wait(0.1):  # a redraw every 0.1 s; Ctrl+C interrupts the wait
            if live:
                sys.stderr.write("\r" + _meter(recorder, limit) + "\x1b[K")
                sys.stderr.flush()
    except KeyboardInterrupt:
        pass  # Ctrl+C is the stop button here
    finally:
        samples = recorder.stop()
        if live:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
    return samples


@app.command(
    "note",
    help=_(
        "Record a voice note from the microphone and print its transcript. Ctrl+C or --seconds stops "
        "the recording; Ctrl+C during the transcription stops it (exit 130). --json: "
        '{"model", "language", "duration_s", "text", "segments": [{"start", "end", "text"}]}.'
    ),
)
def note(
    seconds: Annotated[
        int | None,
        typer.Option(
            "--seconds", min=1, max=3600, help=_("Stop after this many seconds (default: voice.max_seconds).")
        ),
    ] = None,
    device: Annotated[
        int | None,
        typer.Option("--device", help=_("Input device number (see mai voice devices).")),
    ] = None,
    language: Language = None,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.core.voice.capture import Recorder
    from mai_tui.core.voice.transcribe import SAMPLE_RATE, VoiceError

    settings = context().settings.voice
    transcriber = _transcriber(settings, language)
    limit = float(seconds if seconds is not None else settings.max_seconds)
    recorder = Recorder(limit)

    def preload() -> None:
        # While the person speaks; a loading error is raised again, and reported, when transcribing.
        with contextlib.suppress(Exception):
            transcriber.load()

    loader = threading.Thread(target=preload, name="mai-voice-load", daemon=True)
    samples = _record(recorder, device, limit, on_open=loader.start)
    if len(samples) < SAMPLE_RATE // 4:
        raise VoiceError(_("nothing was recorded"))
    segments: list[Segment] = []
    cancel = threading.Event()
    status = sys.stderr.isatty()
    if status:
        sys.stderr.write(_("transcribing {seconds} of speech…").format(seconds=_clock(len(samples) / SAMPLE_RATE)))
        sys.stderr.flush()

    def shown(segment: Segment) -> None:
        nonlocal status
        if status:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            status = False
        segments.append(segment)
        if not json_out and segment.text:
            say(segment.text)
            sys.stdout.flush()

    try:
        transcript: Transcript = _in_worker(
            lambda: transcriber.transcribe(samples, on_segment=shown, cancel=cancel), cancel
        )
    except KeyboardInterrupt:
        if json_out:
            print_json(_note_json(transcriber, len(samples) / SAMPLE_RATE, segments))
        raise
    if not transcript.segments:
        raise VoiceError(_("no speech heard in the recording"))
    if json_out:
        print_json(_note_json(transcriber, transcript.duration, transcript.segments, transcript.language))


def _note_json(
    transcriber: Transcriber, duration: float, segments: list[Segment], language: str | None = None
) -> dict[str, Any]:
    return {
        "model": _model_name(transcriber),
        "language": language or transcriber.language,
        "duration_s": round(duration, 2),
        "text": " ".join(s.text for s in segments if s.text),
        "segments": [_segment_json(s) for s in segments],
    }


# --- mai voice devices --------------------------------------------------------------------


@app.command(
    "devices",
    help=_(
        "List the microphones (input devices), or say why there are none. --json: [{index, name, channels, default}]."
    ),
)
def devices(json_out: JsonOut = False) -> None:
    from mai_tui.core.voice.capture import input_devices

    found = input_devices()  # VoiceError naming the cause when there are none
    if json_out:
        print_json([{"index": d.index, "name": d.name, "channels": d.channels, "default": d.default} for d in found])
        return
    print_table(
        [_("number"), _("name"), _("channels"), _("default")],
        [(d.index, d.name, d.channels, d.default) for d in found],
        title=ngettext("{n} input device", "{n} input devices", len(found)).format(n=len(found)),
    )
