"""Push-to-talk for the app: the voice key starts recording, the same key or Esc stops it,
the transcript lands in the prompt box (or is sent with `voice.send_at_once`).

Recording and transcription run in thread workers; the speech model loads once per app.
Nothing heavy is imported here at module level (the first frame must stay light).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.message import Message

from mai_tui.i18n import _
from mai_tui.tui.widgets.prompt import PromptBox
from mai_tui.tui.widgets.voice import VoiceStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.timer import Timer

    from mai_tui.core.context import AppContext
    from mai_tui.core.voice.capture import Recorder
    from mai_tui.core.voice.transcribe import Transcriber
    from mai_tui.tui.screens.chat import ChatScreen

log = logging.getLogger(__name__)


# Push-to-talk. `take` is the recording's own cancel event: results of a cancelled take are dropped.
@dataclass
class RecordingStarted(Message):
    recorder: Recorder
    take: threading.Event


@dataclass
class Transcribed(Message):
    text: str
    take: threading.Event


@dataclass
class VoiceFailed(Message):
    reason: str
    take: threading.Event


def open_microphone(max_seconds: float) -> Recorder:
    """The default recorder: the system's default microphone, already recording. VoiceError
    naming the cause (no PortAudio, no input device) when it cannot."""
    from mai_tui.core.voice.capture import Recorder

    recorder = Recorder(max_seconds)
    recorder.start()
    return recorder


class PushToTalk(App[None]):
    """The app's voice notes; `MaiApp` provides `chat` and `context`."""

    context: AppContext | None

    if TYPE_CHECKING:  # the app that includes this defines it

        @property
        def chat(self) -> ChatScreen: ...

    def __init__(self) -> None:
        super().__init__()
        # Tests swap in a recorder fed from a file, through the same `feed` path as the microphone.
        self.recorder_factory: Callable[[float], Recorder] = open_microphone
        self.voice_state = "idle"  # idle, opening, recording or transcribing
        self._take = threading.Event()  # set: the current take was cancelled
        self._recorder: Recorder | None = None
        self._voice_meter: Timer | None = None
        self._voice_limit = 0.0
        self._voice_keys = ""
        self._transcriber: Transcriber | None = None  # loaded once (~0.3 s), reused for every take

    def on_unmount(self) -> None:
        """Quitting calls off a recording or transcription in progress (the app's exit waits
        for worker threads) and gives the microphone back."""
        self._take.set()
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            recorder.stop()

    def toggle_voice(self) -> None:
        """The voice key: start recording, or stop and transcribe."""
        if self.voice_state == "recording":
            self._finish_recording()
        elif self.voice_state == "opening":  # pressed again before the microphone opened: never mind
            self._voice_escape()
        elif self.voice_state == "transcribing":
            self.notify(_("Still transcribing the last recording…"), severity="warning")
        elif self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
        else:
            if str(self.chat.query_one("#notice").render()) == _("Nothing was heard."):  # from the last take
                self.chat.set_notice("")
            keys = [key for key in (self.chat.key_for("chat.voice"), self.chat.key_for("chat.stop")) if key]
            self._voice_keys = (
                _("{first} or {second}").format(first=keys[0], second=keys[1]) if len(keys) > 1 else "".join(keys)
            )
            self._voice_limit = float(self.context.settings.voice.max_seconds)
            self._take = threading.Event()
            self.voice_state = "opening"
            self.chat.query_one(VoiceStatus).opening()
            self.open_recorder(self._voice_limit, self._take)

    def _speech_model(self) -> Transcriber:
        from mai_tui.core.voice.transcribe import Transcriber

        assert self.context is not None
        if self._transcriber is None:
            voice = self.context.settings.voice
            self._transcriber = Transcriber(voice.model, language=voice.language)
        return self._transcriber

    @work(thread=True, group="voice", exit_on_error=False)
    def open_recorder(self, max_seconds: float, take: threading.Event) -> None:
        """Open the microphone (PortAudio is slow to load), then load the speech model while the
        user speaks."""
        from mai_tui.core.errors import MaiError

        try:
            transcriber = self._speech_model()  # a model/language mismatch is said before anyone speaks
            recorder = self.recorder_factory(max_seconds)
        except MaiError as error:  # VoiceError: no PortAudio, no microphone; InvalidInput
            self.post_message(VoiceFailed(str(error), take))
            return
        except Exception as error:  # never a crash: say it, log the details
            log.exception("opening the microphone failed")
            self.post_message(VoiceFailed(f"{type(error).__name__}: {error}".splitlines()[0], take))
            return
        self.post_message(RecordingStarted(recorder, take))
        try:
            transcriber.load()
        except MaiError:
            pass  # said when the recording is transcribed
        except Exception:
            log.exception("loading the speech model failed")

    def on_recording_started(self, message: RecordingStarted) -> None:
        if message.take.is_set() or message.take is not self._take:  # cancelled while opening
            message.recorder.stop()
            return
        self._recorder = message.recorder
        self.voice_state = "recording"
        self._voice_meter = self.set_interval(0.1, self._show_recording)
        self._show_recording()

    def _show_recording(self) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        if recorder.stopped.is_set():  # the maximum length: it stopped by itself
            self.notify(_("The recording reached its maximum length."))
            self._finish_recording()
            return
        self.chat.query_one(VoiceStatus).recording(
            recorder.seconds, self._voice_limit, recorder.level, self._voice_keys
        )

    def _finish_recording(self) -> None:
        recorder, self._recorder = self._recorder, None
        if self._voice_meter is not None:
            self._voice_meter.stop()
            self._voice_meter = None
        if recorder is None:
            return
        self.voice_state = "transcribing"
        self.chat.query_one(VoiceStatus).transcribing(self.chat.key_for("chat.stop"))
        self.transcribe_recording(recorder, self._take)

    @work(thread=True, group="voice", exit_on_error=False)
    def transcribe_recording(self, recorder: Recorder, take: threading.Event) -> None:
        from mai_tui.core.errors import MaiError
        from mai_tui.core.voice.transcribe import Cancelled

        try:
            samples = recorder.stop()
            text = self._speech_model().transcribe(samples, cancel=take).text if len(samples) else ""
        except Cancelled:
            return
        except MaiError as error:
            self.post_message(VoiceFailed(str(error), take))
            return
        except Exception as error:
            log.exception("transcribing the recording failed")
            self.post_message(VoiceFailed(f"{type(error).__name__}: {error}".splitlines()[0], take))
            return
        self.post_message(Transcribed(text, take))

    def on_transcribed(self, message: Transcribed) -> None:
        if message.take.is_set() or message.take is not self._take:
            return
        self._voice_idle()
        text = message.text.strip()
        if not text:
            self.chat.set_notice(_("Nothing was heard."))
            return
        box = self.chat.query_one(PromptBox)
        before = box.text.rstrip()
        box.load_text(f"{before} {text}" if before else text)
        if self.context is not None and self.context.settings.voice.send_at_once:
            box.send()  # as if the user pressed Enter
            return
        box.move_cursor(box.document.end)
        if self.screen is self.chat:
            box.focus()

    def on_voice_failed(self, message: VoiceFailed) -> None:
        if message.take.is_set() or message.take is not self._take:
            return
        self._voice_idle()
        self.notify(message.reason, title=_("Voice"), severity="error", timeout=15)

    def _voice_escape(self) -> None:
        """Esc: a recording stops and is transcribed; opening or transcribing is called off."""
        if self.voice_state == "recording":
            self._finish_recording()
            return
        self._take.set()  # the worker's result, when it comes, is dropped
        if self._recorder is not None:
            self._recorder.stop()
        self._voice_idle()

    def _voice_idle(self) -> None:
        self.voice_state = "idle"
        self._recorder = None
        if self._voice_meter is not None:
            self._voice_meter.stop()
            self._voice_meter = None
        self.chat.query_one(VoiceStatus).idle()
