"""The real `mai` in a real terminal (tmux): type, watch it stream, press Esc, check the database;
and an answer full of escape sequences leaves the pane title and screen alone."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks

MAI = Path(sys.executable).parent / "mai"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by make setup")


class Terminal:
    """A private tmux server running `mai` in a 120x40 pane."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"mai-e2e-{os.getpid()}-{time.monotonic_ns()}"
        self.base = ["tmux", "-L", self.socket, "-f", "/dev/null"]
        exports = [f"{k}={v}" for k, v in env.items()]
        subprocess.run(
            [*self.base, "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", "env", *exports, str(MAI)],
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-p", "-t", "e2e"], capture_output=True, text=True).stdout

    def title(self) -> str:
        result = subprocess.run(
            [*self.base, "display-message", "-p", "-t", "e2e", "#{pane_title}"], capture_output=True, text=True
        )
        return result.stdout.strip()

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "e2e", *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "e2e", "-l", text], check=True)

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.05)  # polling the screen, not timing anything
        raise AssertionError(f"never saw {what}; screen was:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeServer, dict[str, str]]]:
    with FakeServer() as server:
        env = {
            name: os.environ[name]
            for name in (
                "PATH",
                "HOME",
                "XDG_CONFIG_HOME",
                "XDG_DATA_HOME",
                "XDG_STATE_HOME",
                "MAI_USER",
                "PYTHON_KEYRING_BACKEND",
            )
        }
        env |= {
            "LANG": "C.UTF-8",
            "TERM": "tmux-256color",
            "OPENROUTER_BASE_URL": f"{server.base_url}/api/v1",
            "OPENROUTER_API_KEY": "sk-or-v1-e2etest0123456789",
            "MAI_DEFAULT_MODEL": "openrouter/x/y",
        }
        yield server, env


def rows() -> list[tuple[str, str, str]]:
    database = Path(os.environ["XDG_DATA_HOME"]) / "mai" / "mai.db"
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT role, content, status FROM messages ORDER BY id").fetchall()


def test_type_stream_stop_and_everything_is_stored(terminal_env: tuple[FakeServer, dict[str, str]]) -> None:
    server, env = terminal_env
    hold = threading.Event()
    chunks = openrouter_chunks(["Streaming ", "into ", "the pane", " and more"])[:5]  # stops mid-answer
    server.route(
        "POST",
        "/api/v1/chat/completions",
        Stream(openrouter_chunks(["A complete answer."])),
        Stream(chunks, hold_open=hold),
    )
    terminal = Terminal(env)
    try:
        terminal.wait_for(lambda s: "Signed in as" in s, "the signed-in status")
        terminal.type("First question")
        terminal.keys("Enter")
        terminal.wait_for(lambda s: "A complete answer." in s, "the first answer")
        terminal.type("Second question")
        terminal.keys("Enter")
        terminal.wait_for(lambda s: "Streaming into the pane" in s, "the streamed text")
        terminal.keys("Escape")
        terminal.wait_for(lambda s: "stopped" in s, "the stopped answer")
    finally:
        terminal.close()
    assert rows() == [
        ("user", "First question", "complete"),
        ("assistant", "A complete answer.", "complete"),
        ("user", "Second question", "complete"),
        ("assistant", "Streaming into the pane", "cancelled"),
    ]


def test_escape_sequences_in_an_answer_do_not_reach_the_terminal(
    terminal_env: tuple[FakeServer, dict[str, str]],
) -> None:
    server, env = terminal_env
    hostile = ["Safe text ", "\x1b]2;PWNED\x07", "\x1b[2J\x1b[H", "\x1b]0;PWNED-TOO\x1b\\", " end."]
    server.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(hostile)))
    terminal = Terminal(env)
    try:
        terminal.wait_for(lambda s: "Signed in as" in s, "the signed-in status")
        title_before = terminal.title()
        terminal.type("hello")
        terminal.keys("Enter")
        screen = terminal.wait_for(lambda s: "end." in s, "the answer")
        assert "PWNED" not in terminal.title()
        assert terminal.title() == title_before
        assert "␛]2;PWNED␇" in screen  # shown as text, inert
        assert "hello" in screen  # the screen was not cleared by the answer
    finally:
        terminal.close()
