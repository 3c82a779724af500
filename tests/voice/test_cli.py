"""`mai voice transcribe|note|devices` through the real entry point, with the real model."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Mai
from tests.processes import interruptible
from tests.voice.conftest import MAI, MORE_SENTENCES, SENTENCES, Speech, words

FakeSounddevice = Callable[[str], dict[str, str]]

NO_PORTAUDIO = 'raise OSError("PortAudio library not found")\n'

NO_INPUT = """
class PortAudioError(Exception):
    pass

class _Default:
    device = [-1, 0]

default = _Default()

def query_devices():
    return [{"name": "HDMI speakers", "max_input_channels": 0, "max_output_channels": 2}]
"""

# A microphone that plays FAKE_MICROPHONE_WAV through the callback, as fast as it can, then
# FAKE_MICROPHONE_SILENCE seconds of silence, then says so on stderr.
MICROPHONE = """
import os, sys, threading, wave
import numpy

class PortAudioError(Exception):
    pass

class _Default:
    device = [0, -1]

default = _Default()

def query_devices():
    return [{"name": "Fake microphone", "max_input_channels": 1, "max_output_channels": 0}]

class InputStream:
    def __init__(self, *, samplerate, channels, dtype, blocksize, device, callback, finished_callback=None):
        assert (samplerate, channels, dtype, device) == (16000, 1, "float32", None)
        self.blocksize, self.callback, self.finished_callback = blocksize, callback, finished_callback
        self.thread = threading.Thread(target=self.play, daemon=True)

    def play(self):
        with wave.open(os.environ["FAKE_MICROPHONE_WAV"]) as clip:
            pcm = numpy.frombuffer(clip.readframes(clip.getnframes()), dtype=numpy.int16)
        silence = numpy.zeros(int(os.environ["FAKE_MICROPHONE_SILENCE"]) * 16000, dtype=numpy.float32)
        samples = numpy.concatenate([pcm.astype(numpy.float32) / 32768, silence])
        for start in range(0, len(samples), self.blocksize):
            block = samples[start : start + self.blocksize].reshape(-1, 1)
            self.callback(block, len(block), None, None)
        sys.stderr.write("fake microphone: played\\n")
        sys.stderr.flush()

    def start(self):
        self.thread.start()

    def stop(self):
        if self.finished_callback is not None:  # as PortAudio does when a stream stops
            self.finished_callback()

    def close(self):
        pass
"""


def real_input_devices() -> bool:
    from mai_tui.core.voice.capture import input_devices
    from mai_tui.core.voice.transcribe import VoiceError

    try:
        return bool(input_devices())
    except VoiceError:
        return False


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAI, *args], capture_output=True, text=True, env=env, timeout=120)


# --- transcribe ---------------------------------------------------------------------------


def test_json_has_every_file_with_segments_and_the_errors_of_the_bad_ones(
    mai: Mai, speech: Speech, broken: dict[str, Path]
) -> None:
    good = [speech.files[kind] for kind in ("wav", "flac", "ogg", "mp3")]
    bad = [broken[name] for name in ("random", "empty", "text", "missing")]
    result = mai("voice", "transcribe", str(good[0]), *map(str, bad), *map(str, good[1:]), "--json")
    assert result.code == 1
    data = result.json()
    assert (data["model"], data["interrupted"]) == ("tiny.en", False)
    files = {Path(f["file"]).name: f for f in data["files"]}
    assert list(files) == ["speech.wav", "noise.mp3", "empty.wav", "notes.wav", "missing.ogg"] + [
        f"speech.{kind}" for kind in ("flac", "ogg", "mp3")
    ]
    for path in good:
        done = files[path.name]
        assert (done["status"], done["error"], done["language"]) == ("ok", None, "en")
        assert words(done["text"]) == words(speech.text)
        assert 11 < done["duration_s"] < 12
        assert len(done["segments"]) >= 2
        assert [w for s in done["segments"] for w in words(s["text"])] == words(speech.text)
        for segment in done["segments"]:
            assert set(segment) == {"start", "end", "text"}
            assert 0 <= segment["start"] < segment["end"] <= done["duration_s"]
    reasons = {
        "noise.mp3": "noise.mp3: not an audio file, or damaged",
        "empty.wav": "empty.wav: the file is empty",
        "notes.wav": "notes.wav: not an audio file, or damaged",
        "missing.ogg": "missing.ogg: no such file",
    }
    for name, reason in reasons.items():
        failed = files[name]
        assert failed["status"] == "failed"
        assert reason in failed["error"]
        assert (failed["text"], failed["language"], failed["duration_s"], failed["segments"]) == (None, None, None, [])
        assert f"mai: {failed['error']}\n" in result.err  # the person sees it too
    assert "mai: 4 of 8 files could not be transcribed" in result.err
    assert "Traceback" not in result.err


def test_text_streams_the_segments_under_a_header_per_file(mai: Mai, speech: Speech, broken: dict[str, Path]) -> None:
    m4a, webm = speech.files["m4a"], speech.files["webm"]
    result = mai("voice", "transcribe", str(m4a), str(broken["text"]), str(webm))
    assert result.code == 1
    first, second = result.out.split("\n\n")
    assert first.splitlines()[0] == f"==> {m4a} <=="
    assert second.splitlines()[0] == f"==> {webm} <=="
    for part in (first, second):
        lines = part.splitlines()[1:]
        assert len(lines) >= 2  # one line per segment
        assert words(" ".join(lines)) == words(speech.text)
    assert result.err.splitlines() == [
        "mai: notes.wav: not an audio file, or damaged (InvalidDataError)",
        "mai: 1 of 3 files could not be transcribed",
    ]


def test_one_file_prints_just_its_transcript(mai: Mai, speech: Speech) -> None:
    result = mai("voice", "transcribe", str(speech.files["flac"]))
    assert (result.code, result.err) == (0, "")
    assert "==>" not in result.out
    assert words(result.out) == words(speech.text)


def test_language_option_wins_over_the_setting(mai: Mai, speech: Speech) -> None:
    assert mai("config", "set", "voice.language", "de").code == 0
    refused = mai("voice", "transcribe", str(speech.wav))
    assert refused.code == 1
    assert refused.err.startswith("mai: the speech model tiny.en knows only English; for 'de' set voice.model")
    assert len(refused.err.splitlines()) == 1
    assert refused.out == ""
    english = mai("voice", "transcribe", str(speech.wav), "--language", "en", "--json")
    assert english.code == 0
    assert words(english.json()["files"][0]["text"]) == words(speech.text)
    french = mai("voice", "transcribe", str(speech.wav), "-l", "fr")
    assert french.code == 1
    assert "for 'fr'" in french.err


def test_no_file_is_wrong_usage(mai: Mai) -> None:
    result = mai("voice", "transcribe")
    assert result.code == 2
    assert "Missing argument" in result.err


def test_ctrl_c_prints_what_was_heard_and_exits_130(speech: Speech) -> None:
    process = subprocess.Popen(
        interruptible([*MAI, "voice", "transcribe", str(speech.long)]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # the first segment, streamed as soon as it is decoded
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert words(first)[:6] == words(SENTENCES[0])
    assert len(words(first + rest)) < 2 * len(words(" ".join(SENTENCES + MORE_SENTENCES)))  # it stopped early
    assert err.splitlines()[-1] == "mai: interrupted"


def test_ctrl_c_with_json_prints_the_partial_result(speech: Speech) -> None:
    """Progress goes to stderr (a terminal here) while stdout is JSON; Ctrl+C after the first segment."""
    import json

    terminal, stderr = os.openpty()
    process = subprocess.Popen(
        interruptible([*MAI, "voice", "transcribe", str(speech.wav), str(speech.long), "--json"]),
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    os.close(stderr)
    seen = b""
    try:
        while b"long.wav" not in seen or b"% [" not in seen.split(b"long.wav", 1)[1]:
            seen += os.read(terminal, 4096)
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=60)
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the other end is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(terminal)
    assert process.returncode == 130
    progress = seen.decode()
    assert "speech.wav: 0:11 of audio" in progress
    assert re.search(r"^long\.wav: 2:\d\d of audio", progress, re.MULTILINE)
    assert re.search(r"^speech\.wav +\d+% \[0:00–0:0\d\] Please call me", progress, re.MULTILINE)
    assert re.search(r"^long\.wav +\d+% \[0:00–0:0\d\] Please call me", progress, re.MULTILINE)
    assert "mai: interrupted" in progress
    data = json.loads(out)
    assert data["interrupted"] is True
    done, stopped = data["files"]
    assert done["status"] == "ok"
    assert words(done["text"]) == words(speech.text)
    assert stopped["status"] == "interrupted"
    assert stopped["segments"]
    assert words(stopped["text"])[:6] == words(SENTENCES[0])


def test_transcribe_needs_no_portaudio(speech: Speech, fake_sounddevice: FakeSounddevice) -> None:
    result = run(["voice", "transcribe", str(speech.wav)], fake_sounddevice(NO_PORTAUDIO))
    assert result.returncode == 0, result.stderr
    assert words(result.stdout) == words(speech.text)


# --- devices and note without a microphone --------------------------------------------------


def test_devices_and_note_on_this_machine(mai: Mai) -> None:
    """The real PortAudio: a list when there is a microphone, else the reason and the alternative."""
    if real_input_devices():
        result = mai("voice", "devices", "--json")
        assert result.code == 0
        assert all(set(d) == {"index", "name", "channels", "default"} for d in result.json())
        pytest.skip("this machine has a microphone: the no-device messages are tested with a fake PortAudio")
    for args in (["voice", "devices"], ["voice", "devices", "--json"], ["voice", "note", "--seconds", "3"]):
        result = mai(*args)
        assert result.code == 1, args
        assert result.out == ""
        assert result.err.startswith("mai: no microphone found")
        assert result.err.endswith("; transcribe a recording instead: mai voice transcribe FILE\n")
        assert len(result.err.splitlines()) == 1


def test_without_the_portaudio_library_the_message_names_it(fake_sounddevice: FakeSounddevice) -> None:
    env = fake_sounddevice(NO_PORTAUDIO)
    for args in (["voice", "devices"], ["voice", "note"], ["voice", "note", "--json"]):
        result = run(args, env)
        assert result.returncode == 1, args
        assert result.stdout == ""
        assert result.stderr == (
            "mai: no audio: the PortAudio library is not installed (libportaudio2); "
            "transcribe a file instead: mai voice transcribe FILE\n"
        )


def test_without_an_input_device_the_message_says_so(fake_sounddevice: FakeSounddevice) -> None:
    env = fake_sounddevice(NO_INPUT)
    env.pop("SSH_CONNECTION", None)
    for args in (["voice", "devices"], ["voice", "note"]):
        result = run(args, env)
        assert result.returncode == 1, args
        assert result.stderr == "mai: no microphone found; transcribe a recording instead: mai voice transcribe FILE\n"
    over_ssh = run(["voice", "note"], {**env, "SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"})
    assert over_ssh.returncode == 1
    assert "this is an SSH session: the microphone is on the other computer" in over_ssh.stderr


def test_seconds_must_be_positive(mai: Mai) -> None:
    result = mai("voice", "note", "--seconds", "0")
    assert result.code == 2
    assert "--seconds" in result.err


# --- note and devices with a (fake) microphone ------------------------------------------------


def test_devices_lists_the_microphone(fake_sounddevice: FakeSounddevice, speech: Speech) -> None:
    import json

    env = {**fake_sounddevice(MICROPHONE), "FAKE_MICROPHONE_WAV": str(speech.wav), "FAKE_MICROPHONE_SILENCE": "0"}
    listed = run(["voice", "devices", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [{"index": 0, "name": "Fake microphone", "channels": 1, "default": True}]
    table = run(["voice", "devices"], env)
    assert "Fake microphone" in table.stdout
    assert "1 input device" in table.stdout


def test_note_stops_after_the_seconds_and_prints_the_transcript(
    fake_sounddevice: FakeSounddevice, speech: Speech
) -> None:
    import json

    env = {**fake_sounddevice(MICROPHONE), "FAKE_MICROPHONE_WAV": str(speech.wav), "FAKE_MICROPHONE_SILENCE": "3"}
    result = run(["voice", "note", "--seconds", "13", "--json"], env)
    assert result.returncode == 0, result.stderr
    assert "Recording (at most 0:13); Ctrl+C stops." in result.stderr
    data = json.loads(result.stdout)
    assert data["duration_s"] == 13.0  # the recording stopped itself at the limit
    assert (data["model"], data["language"]) == ("tiny.en", "en")
    assert words(data["text"]) == words(speech.text)
    assert [w for s in data["segments"] for w in words(s["text"])] == words(speech.text)


def test_ctrl_c_stops_the_recording_and_the_note_is_transcribed(
    fake_sounddevice: FakeSounddevice, speech: Speech
) -> None:
    env = {**fake_sounddevice(MICROPHONE), "FAKE_MICROPHONE_WAV": str(speech.wav), "FAKE_MICROPHONE_SILENCE": "1"}
    process = subprocess.Popen(
        interruptible([*MAI, "voice", "note", "--seconds", "600"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen: list[str] = []
    while not ({"fake microphone: played\n", "Recording (at most 10:00); Ctrl+C stops.\n"} <= set(seen)):
        seen.append(process.stderr.readline())
    process.send_signal(signal.SIGINT)  # the stop button while recording, not an interruption
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert words(out) == words(speech.text)
