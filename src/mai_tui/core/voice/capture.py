"""Recording from the microphone: 16 kHz mono float32 into memory, through PortAudio
(`sounddevice`). Frames reach the recorder through one callback; tests and other sources
feed it the same way (`Recorder.feed`)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mai_tui.core.voice.transcribe import SAMPLE_RATE, VoiceError
from mai_tui.i18n import _

BLOCK = 1600  # samples per callback: 0.1 s


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default: bool


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError:  # the PortAudio library itself is missing
        raise VoiceError(
            _(
                "no audio: the PortAudio library is not installed (libportaudio2); "
                "transcribe a file instead: mai voice transcribe FILE"
            )
        ) from None
    return sounddevice


def input_devices() -> list[InputDevice]:
    """Microphones PortAudio can see; VoiceError saying why when there are none."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default = sd.default.device[0] if sd.default.device else -1
    except Exception as error:  # PortAudioError
        raise VoiceError(_("cannot list audio devices: {reason}").format(reason=error)) from None
    found = [
        InputDevice(index, str(d["name"]), int(d["max_input_channels"]), index == default)
        for index, d in enumerate(devices)
        if int(d.get("max_input_channels", 0)) > 0
    ]
    if not found:
        where = (
            _(" (this is an SSH session: the microphone is on the other computer)")
            if os.environ.get("SSH_CONNECTION")
            else ""
        )
        raise VoiceError(
            _("no microphone found{where}; transcribe a recording instead: mai voice transcribe FILE").format(
                where=where
            )
        )
    return found


class Recorder:
    """Collects frames (from the microphone or `feed`), with the level and elapsed time to show.

    `max_seconds` stops it by itself; `stopped` is set when it is done either way.
    """

    def __init__(self, max_seconds: float = 120.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_samples = int(max_seconds * SAMPLE_RATE)
        self.clock = clock
        self.level = 0.0  # RMS of the latest block, 0..1
        self.stopped = threading.Event()
        self._blocks: list[Any] = []
        self._samples = 0
        self._lock = threading.Lock()
        self._stream: Any = None

    @property
    def seconds(self) -> float:
        return self._samples / SAMPLE_RATE

    def feed(self, frames: Any) -> None:
        """One block of samples (the PortAudio callback calls this; so can any other source)."""
        import numpy

        if self.stopped.is_set():
            return
        block = numpy.asarray(frames, dtype=numpy.float32).reshape(-1)
        room = self.max_samples - self._samples
        block = block[:room]
        with self._lock:
            self._blocks.append(block.copy())
            self._samples += len(block)
        self.level = float(numpy.sqrt(numpy.mean(block**2))) if len(block) else 0.0
        if self._samples >= self.max_samples:
            self.stopped.set()

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.feed(indata[:, 0])

    def start(self, device: int | None = None) -> None:
        """Open the microphone (16 kHz mono); VoiceError naming the cause when it cannot."""
        sd = _sounddevice()
        input_devices()  # a clear message when there is no microphone at all
        try:
            self._stream = sd.InputStream(
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="float32",
                blocksize=BLOCK,
                device=device,
                callback=self._callback,
                finished_callback=self.stopped.set,  # an unplugged microphone ends the recording
            )
            self._stream.start()
        except Exception as error:  # PortAudioError: busy device, bad sample rate
            if self._stream is not None:  # opened but not started: give the device back
                with contextlib.suppress(Exception):  # already failing with the clearer error below
                    self._stream.close()
                self._stream = None
            raise VoiceError(_("cannot open the microphone: {reason}").format(reason=error)) from None

    def stop(self) -> Any:
        """Stop recording; the samples so far (16 kHz mono float32)."""
        import numpy

        self.stopped.set()
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            finally:
                self._stream = None
        with self._lock:
            return numpy.concatenate(self._blocks) if self._blocks else numpy.zeros(0, dtype=numpy.float32)
