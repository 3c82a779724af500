"""The real `mai` executable: version, completion, and a wheel installed in a fresh venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mai_tui import __version__
from tests.processes import interruptible

REPO = Path(__file__).resolve().parent.parent
MAI = Path(sys.executable).parent / "mai"
# Read at import, before the autouse fixture points XDG_CACHE_HOME at a temporary folder.
UV_CACHE = os.environ.get("UV_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uv"
)


def run(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_version_from_the_real_binary() -> None:
    result = run(MAI, "--version")
    assert (result.returncode, result.stdout) == (0, f"mai {__version__}\n")


def test_shell_completion_completes_commands() -> None:
    env = {**os.environ, "_MAI_COMPLETE": "complete_bash", "COMP_WORDS": "mai orgs a", "COMP_CWORD": "2"}
    result = run(MAI, env=env)
    assert result.returncode == 0
    assert result.stdout.split() == ["add", "assign"]
    script = run(MAI, "--show-completion", "bash")
    assert "_MAI_COMPLETE=complete_bash" in script.stdout


def _uv() -> str:
    found = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail("uv is needed to install the wheel offline (make setup installs it in .tools/)")
    return found


@pytest.mark.slow
def test_wheel_carries_migrations_themes_and_locales(tmp_path: Path) -> None:
    build = run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist", REPO)
    assert build.returncode == 0, build.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "mai_tui/migrations/env.py",
        "mai_tui/themes/mai-dark.toml",
        "mai_tui/locales/de/LC_MESSAGES/mai.mo",
    ):
        assert expected in names
    assert not [n for n in names if "__pycache__" in n]

    # Install it as a user would, into a new venv, with the locked versions (from uv's cache: no network).
    uv = (_uv(), "--cache-dir", UV_CACHE)
    lock = tmp_path / "pylock.toml"
    exported = run(
        *uv, "export", "--format", "pylock.toml", "--frozen", "--no-dev", "--no-emit-project", "-o", lock, cwd=REPO
    )
    assert exported.returncode == 0, exported.stderr
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    assert run(*uv, "venv", "--quiet", "--python", sys.executable, venv).returncode == 0
    for requirement in (("-r", lock), ("--no-deps", wheel)):
        install = run(*uv, "pip", "install", "--quiet", "--offline", "--python", python, *requirement)
        assert install.returncode == 0, install.stderr

    home = tmp_path / "home"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "MAI_USER": "wheel",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "LANG": "de_DE.UTF-8",
    }
    upgraded = run(venv / "bin" / "mai", "db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    head = sorted(n.removeprefix("mai_tui/migrations/versions/")[:4] for n in names if "/versions/0" in n)[-1]
    assert f"Datenbank auf {head} migriert." in upgraded.stdout  # the compiled German catalog came along
    assert (home / "data" / "mai" / "mai.db").exists()


def test_ctrl_c_during_mai_ask_keeps_the_partial_answer_and_exits_130(tmp_path: Path) -> None:
    import signal
    import sqlite3
    import threading

    from tests.fakes.server import FakeServer, Stream
    from tests.fakes.wire import openrouter_chunks

    hold = threading.Event()
    with FakeServer() as server:
        chunks = openrouter_chunks(["Streaming", " partial"])[:4]  # never finishes on its own
        server.route("POST", "/api/v1/chat/completions", Stream(chunks, hold_open=hold))
        env = {
            **os.environ,
            "OPENROUTER_BASE_URL": f"{server.base_url}/api/v1",
            "OPENROUTER_API_KEY": "sk-or-v1-binarytest0123456789",
        }
        process = subprocess.Popen(
            interruptible([str(MAI), "ask", "-m", "openrouter/x/y", "question"]),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None
        received = b""
        while b"Streaming partial" not in received:
            piece = process.stdout.read1(1024)  # type: ignore[attr-defined]
            assert piece, process.stderr.read() if process.stderr else b""
            received += piece
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert b"interrupted" in err
    database = Path(os.environ["XDG_DATA_HOME"]) / "mai" / "mai.db"
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT role, content, status FROM messages ORDER BY id").fetchall()
    assert rows == [("user", "question", "complete"), ("assistant", "Streaming partial", "cancelled")]


def test_a_closed_pipe_ends_mai_ask_quietly() -> None:
    from tests.fakes.server import FakeServer, Stream
    from tests.fakes.wire import openai_chunks

    with FakeServer() as server:
        server.route("POST", "/v1/chat/completions", Stream(openai_chunks([f"line {i}\n" for i in range(2000)])))
        env = {**os.environ, "OPENAI_BASE_URL": f"{server.base_url}/v1", "OPENAI_API_KEY": "sk-pipe-0123456789"}
        command = f"'{MAI}' ask -m openai/x hi | head -1"
        result = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, timeout=60)  # noqa: S602
    assert result.stdout == "line 0\n"
    assert result.stderr == ""
