"""Push-to-talk in the chat screen, with the real bundled speech model (tiny.en).

The microphone is replaced by a recorder that "hears" a clip spoken by espeak-ng: its
`start()` pushes the clip through `feed()`, the path the PortAudio callback takes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy
import pytest
from textual.pilot import Pilot
from textual.widgets import Markdown, Static

from mai_tui.core.voice.capture import BLOCK, Recorder
from mai_tui.core.voice.transcribe import SAMPLE_RATE, VoiceError
from mai_tui.locations import Paths
from mai_tui.tui.app import MaiApp
from mai_tui.tui.widgets.message import MessageView
from mai_tui.tui.widgets.prompt import PromptBox
from mai_tui.tui.widgets.voice import VoiceStatus, clock, meter
from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import wait_until

ROUTE = "/api/v1/chat/completions"
SPOKEN = "please summarise my notes"


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The spoken phrase as 16 kHz mono float32, made with espeak-ng and sox."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox make the spoken clip")
    folder = tmp_path_factory.mktemp("speech")
    raw, clip = folder / "raw.wav", folder / "clip.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "130", "-g", "6", "-w", str(raw), SPOKEN], check=True)
    subprocess.run(["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(clip)], check=True)
    return read_wav(clip)


def read_wav(path: Path) -> Any:
    with wave.open(str(path)) as file:
        assert (file.getframerate(), file.getnchannels(), file.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        pcm = numpy.frombuffer(file.readframes(file.getnframes()), dtype="<i2")
    return pcm.astype(numpy.float32) / 32768


def silence(seconds: float) -> Any:
    return numpy.zeros(int(seconds * SAMPLE_RATE), dtype=numpy.float32)


class Heard(Recorder):
    """A microphone that hears `samples`: fed in 0.1 s blocks, as the PortAudio callback does."""

    def __init__(
        self, max_seconds: float, samples: Any, *, level: float | None = None, gate: threading.Event | None = None
    ) -> None:
        super().__init__(max_seconds)
        self.samples = samples
        self.frozen_level = level  # a fixed meter for the snapshot
        self.gate = gate  # holds the transcription back (stop() waits for it) until the test is ready

    def start(self, device: int | None = None) -> None:
        for start in range(0, len(self.samples), BLOCK):
            self.feed(self.samples[start : start + BLOCK])
        if self.frozen_level is not None:
            self.level = self.frozen_level

    def stop(self) -> Any:
        if self.gate is not None:
            self.gate.wait(timeout=30)
        return super().stop()


def hearing(samples: Any, asked: list[float] | None = None, **kwargs: Any) -> Callable[[float], Recorder]:
    def factory(max_seconds: float) -> Recorder:
        if asked is not None:
            asked.append(max_seconds)
        recorder = Heard(max_seconds, samples, **kwargs)
        recorder.start()
        return recorder

    return factory


def configure(text: str) -> None:
    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)


def words(text: str) -> list[str]:
    """Lower-case words, spelling-neutral (the model writes "summarize")."""
    return [w.replace("summarise", "summarize") for w in re.findall(r"[a-z]+", text.lower())]


def status(app: MaiApp) -> str:
    widget = app.screen.query_one(VoiceStatus)
    return str(widget.render()) if widget.display else ""


def prompt_text(app: MaiApp) -> str:
    return app.screen.query_one(PromptBox).text


def shown_answers(app: MaiApp) -> list[str]:
    return [str(view.query_one(Markdown).source) for view in app.screen.query(MessageView)]


def notes(app: MaiApp) -> list[tuple[str, str]]:
    return [(str(n.message), n.severity) for n in app._notifications]


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)


def test_the_meter_rises_with_the_level_and_the_clock_shows_minutes() -> None:
    assert meter(0.0) == "········"
    assert meter(0.1) == "▁▂▃▄▅···"  # ordinary speech, -20 dB
    assert meter(1.0) == "▁▂▃▄▅▆▇█"
    assert [clock(s) for s in (0, 7.9, 65, 120)] == ["0:00", "0:07", "1:05", "2:00"]


async def test_speech_lands_in_the_prompt_box_for_editing(speech: Any) -> None:
    asked: list[float] = []
    app = MaiApp()
    app.recorder_factory = hearing(speech, asked)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        app.screen.query_one(PromptBox).load_text("Note:")
        await pilot.press("f4")
        await wait_until(pilot, lambda: "Recording" in status(app))
        assert "0:02 / 2:00" in status(app)  # 2.9 s heard so far, of at most voice.max_seconds
        assert "(F4 or Esc stops)" in status(app)
        await pilot.press("f4")
        await wait_until(pilot, lambda: prompt_text(app) != "Note:")
        assert words(prompt_text(app)) == ["note", *words(SPOKEN)]  # appended after a space, not sent
        assert status(app) == ""
        assert app.focused is app.screen.query_one(PromptBox)
        assert app.voice_state == "idle"
    assert asked == [120.0]


async def test_send_at_once_sends_the_transcript(speech: Any, openrouter: FakeServer) -> None:
    from tests.tui.test_chat import stored

    configure("[voice]\nsend_at_once = true\n")
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["Here is your summary."])))
    app = MaiApp()
    app.recorder_factory = hearing(speech)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: "Recording" in status(app))
        await pilot.press("f4")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        assert prompt_text(app) == ""
    prompt, answer = stored()
    assert words(prompt.content) == words(SPOKEN)
    assert answer.content == "Here is your summary."
    assert words(openrouter.requests[-1].json()["messages"][-1]["content"]) == words(SPOKEN)


async def test_no_microphone_is_a_clear_message_not_a_crash() -> None:
    from mai_tui.core.voice.capture import input_devices

    try:
        input_devices()
    except VoiceError:
        pass  # no PortAudio or no input device: what this test is about
    else:
        pytest.skip("this machine has a microphone")
    app = MaiApp()  # the default recorder: the real microphone
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: any(severity == "error" for _, severity in notes(app)))
        message = next(text for text, severity in notes(app) if severity == "error")
        assert "mai voice transcribe" in message
        assert "microphone" in message or "PortAudio" in message
        assert status(app) == ""
        assert app.voice_state == "idle"
        await pilot.press("f4")  # and it can be tried again
        await wait_until(pilot, lambda: sum(severity == "error" for _, severity in notes(app)) == 2)


async def test_escape_stops_the_recording_and_leaves_the_answer_running(speech: Any, openrouter: FakeServer) -> None:
    from tests.tui.test_chat import send, stored

    hold = threading.Event()
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["Thinking", " hard"])[:4], hold_open=hold))
    app = MaiApp()
    app.recorder_factory = hearing(speech)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "First question")
        await wait_until(pilot, lambda: "Thinking hard" in " ".join(shown_answers(app)))
        await pilot.press("f4")
        await wait_until(pilot, lambda: "Recording" in status(app))
        await pilot.press("escape")  # stops the recording ...
        await wait_until(pilot, lambda: words(prompt_text(app)) == words(SPOKEN))
        assert app._answering()  # ... not the answer being written
        await pilot.press("escape")  # Esc means "stop the answer" again
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["cancelled"])
        assert words(prompt_text(app)) == words(SPOKEN)  # the dictated prompt stays for editing


async def test_a_recording_stops_by_itself_at_the_maximum_length(speech: Any) -> None:
    configure("[voice]\nmax_seconds = 5\n")
    asked: list[float] = []
    app = MaiApp()
    app.recorder_factory = hearing(numpy.concatenate([speech, silence(6)]), asked)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f4")  # and no second press
        await wait_until(pilot, lambda: prompt_text(app) != "")
        assert words(prompt_text(app)) == words(SPOKEN)
        assert ("The recording reached its maximum length.", "information") in notes(app)
    assert asked == [5.0]


async def test_silence_is_reported_as_nothing_heard() -> None:
    app = MaiApp()
    app.recorder_factory = hearing(silence(1.5))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: "Recording" in status(app))
        await pilot.press("f4")
        notice = app.screen.query_one("#notice", Static)
        await wait_until(pilot, lambda: str(notice.render()) == "Nothing was heard.")
        assert prompt_text(app) == ""
        assert status(app) == ""
        await pilot.press("f4")  # the next take clears it
        await wait_until(pilot, lambda: "Recording" in status(app))
        assert str(notice.render()) == ""
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.voice_state == "idle")


async def test_a_language_the_model_does_not_know_is_said_before_recording(speech: Any) -> None:
    configure('[voice]\nlanguage = "de"\n')
    asked: list[float] = []
    app = MaiApp()
    app.recorder_factory = hearing(speech, asked)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: any(severity == "error" for _, severity in notes(app)))
        assert any("knows only English" in text for text, _ in notes(app))
        assert app.voice_state == "idle"
    assert asked == []  # the microphone was never opened


async def test_the_palette_has_a_voice_entry(speech: Any) -> None:
    app = MaiApp()
    app.recorder_factory = hearing(speech)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        titles = {title: action for title, _, action in app.chat.commands()}
        titles["Voice"]()
        await wait_until(pilot, lambda: "Recording" in status(app))
        titles["Voice"]()
        await wait_until(pilot, lambda: words(prompt_text(app)) == words(SPOKEN))


def test_recording_snapshot(snap_compare: Any, speech: Any) -> None:
    seven_seconds = numpy.concatenate([speech, silence(7 - len(speech) / SAMPLE_RATE)])
    app = MaiApp()
    app.recorder_factory = hearing(seven_seconds, level=0.1)  # a frozen time and level

    async def recording(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: "Signed in" in str(pilot.app.screen.query_one("#status", Static).render()))
        pilot.app.screen.query_one(PromptBox).cursor_blink = False  # a blinking cursor would make it flaky
        await pilot.press("f4")
        await wait_until(pilot, lambda: "Recording" in status(app))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=recording)


async def test_escape_while_transcribing_calls_it_off(speech: Any) -> None:
    gate = threading.Event()
    app = MaiApp()
    app.recorder_factory = hearing(speech, gate=gate)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: "Recording" in status(app))
        await pilot.press("f4")
        assert "Transcribing" in status(app)
        await pilot.press("escape")
        assert status(app) == ""
        gate.set()
        await wait_until(pilot, lambda: all(w.is_finished for w in app.workers if w.group == "voice"))
        await pilot.pause()
        assert prompt_text(app) == ""  # the late transcript is dropped
        assert app.voice_state == "idle"


async def test_quitting_while_recording_calls_the_take_off_and_frees_the_microphone(speech: Any) -> None:
    recorders: list[Recorder] = []
    make = hearing(numpy.concatenate([speech, silence(30)]))

    def factory(max_seconds: float) -> Recorder:
        recorders.append(make(max_seconds))
        return recorders[-1]

    app = MaiApp()
    app.recorder_factory = factory
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: "Recording" in status(app))
        take = app._take
    assert take.is_set()  # a transcription started now would be dropped at once
    [recorder] = recorders
    assert recorder.stopped.is_set()
