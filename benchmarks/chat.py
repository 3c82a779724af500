"""The chat screen as a person feels it, in tmux (120x40), against a fake provider on loopback.

    python benchmarks/chat.py [--runs 5]

- keystroke echo while an answer streams at 100 tokens/s: key sent → character on screen;
- opening a 1,000-message conversation from the list: Enter → its last message on screen,
  and the app's RSS afterwards.
Stream-to-screen times for 4,000-token answers come from ../shared/peerbench/ttff.py (see the
closing notes for the command), so the numbers compare with the peers'.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks

MAI = str(Path(sys.executable).parent / "mai")


class Pane:
    def __init__(self, env: dict[str, str]) -> None:
        self.tmux = ["tmux", "-L", f"mai-bench-{os.getpid()}-{time.monotonic_ns()}", "-f", "/dev/null"]
        exports = [f"{k}={v}" for k, v in env.items()]
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", "env", *exports, MAI], check=True
        )

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "b", *(["-l"] if literal else []), *keys], check=True)

    def wait(self, text: str, timeout: float = 60) -> float:
        start = time.perf_counter()
        while text not in self.screen():
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"never saw {text!r}")
            time.sleep(0.005)
        return time.perf_counter() - start

    def rss_mb(self) -> float:
        pid = subprocess.run(
            [*self.tmux, "display-message", "-p", "-t", "b", "#{pane_pid}"], capture_output=True, text=True
        ).stdout.strip()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def environment(home: Path, server: FakeServer) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "tmux-256color",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "MAI_USER": "bench",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "OPENROUTER_BASE_URL": f"{server.base_url}/api/v1",
        "OPENROUTER_API_KEY": "sk-or-v1-bench0123456789",
        "MAI_DEFAULT_MODEL": "openrouter/bench/model",
    }


def keystroke_echo(home: Path, server: FakeServer, keys: int) -> list[float]:
    words = [f"word{i} " + ("\n\n" if i % 12 == 11 else "") for i in range(4000)]
    server.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(words), rate=100))
    pane = Pane(environment(home, server))
    try:
        pane.wait("Signed in as")
        pane.keys("Stream please", literal=True)
        pane.keys("Enter")
        pane.wait("word30 ")
        times = []
        for index in range(keys):
            marker = f"k{index:02d}"
            start = time.perf_counter()
            pane.keys(marker, literal=True)
            pane.wait(marker)
            times.append(time.perf_counter() - start)
        pane.keys("Escape")
        return times
    finally:
        pane.close()


def seed_long_chat(home: Path, server: FakeServer) -> None:
    env = {**os.environ, **environment(home, server)}
    code = (
        "from mai_tui.core.context import load_context\n"
        "from mai_tui.core.store.models import ChatMessage, Conversation\n"
        "ctx = load_context()\n"
        "with ctx.session() as s:\n"
        "    user = ctx.current_user(s)\n"
        "    c = Conversation(user_id=user.id, title='LONGCHAT'); s.add(c); s.flush()\n"
        "    parent = None\n"
        "    for i in range(1000):\n"
        "        text = ('question ' if i % 2 == 0 else 'answer with **markdown** and `code` ') * 20 + f' #{i}'\n"
        "        if i == 999: text += ' LONGCHAT-LAST-5W2J'\n"
        "        m = ChatMessage(conversation_id=c.id, parent_id=parent, role='user' if i % 2 == 0 else 'assistant',"
        " content=text); s.add(m); s.flush(); parent = m.id\n"
        "    c.current_leaf_id = parent\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def open_long_chat(home: Path, server: FakeServer) -> tuple[float, float]:
    pane = Pane(environment(home, server))
    try:
        pane.wait("Signed in as")
        pane.keys("C-b")  # focus the conversation list
        time.sleep(0.2)
        start = time.perf_counter()
        pane.keys("Enter")
        pane.wait("LONGCHAT-LAST-5W2J")
        seconds = time.perf_counter() - start
        return seconds, pane.rss_mb()
    finally:
        pane.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    if not shutil.which("tmux"):
        sys.exit("tmux is needed (make setup installs it)")
    with tempfile.TemporaryDirectory(prefix="mai-chat-bench-") as folder, FakeServer() as server:
        echo = keystroke_echo(Path(folder) / "echo", server, keys=20)
        home = Path(folder) / "long"
        seed_long_chat(home, server)
        opened = [open_long_chat(home, server) for _ in range(options.runs)]
    print("| measurement | median | min | max | n |")
    print("|---|---|---|---|---|")
    print(
        f"| keystroke → echo while streaming 100 tok/s (ms) | {statistics.median(echo) * 1000:.0f} | "
        f"{min(echo) * 1000:.0f} | {max(echo) * 1000:.0f} | {len(echo)} |"
    )
    seconds = [s for s, _ in opened]
    rss = [r for _, r in opened]
    print(
        f"| open a 1,000-message conversation (s) | {statistics.median(seconds):.3f} | {min(seconds):.3f} | "
        f"{max(seconds):.3f} | {len(seconds)} |"
    )
    print(
        f"| RSS after opening it (MB) | {statistics.median(rss):.0f} | {min(rss):.0f} | {max(rss):.0f} | {len(rss)} |"
    )


if __name__ == "__main__":
    main()
