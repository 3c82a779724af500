"""Start-up times as a person sees them: `mai --version`, `mai --help`, and the TUI in tmux.

    python benchmarks/startup.py [--runs 7]

The TUI is started in a detached tmux session (120x40) and the screen is read every 10 ms
until the first frame is on screen (the prompt has focus and takes keys), then until the database
is open and the user signed in. Everything runs in throwaway XDG folders; nothing touches
the network.
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

MAI = str(Path(sys.executable).parent / "mai")
READY_TEXT = "Opening the database"  # on the first frame; replaced once signed in
SIGNED_IN_TEXT = "Signed in as"


def environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "MAI_USER": "bench",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "LANG": "C.UTF-8",
    }


def time_command(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_tui(env: dict[str, str], socket: str) -> tuple[float, float]:
    """Seconds from launch until READY_TEXT, and until SIGNED_IN_TEXT, are on screen."""
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    env_args = [f"{k}={v}" for k, v in env.items() if k.startswith(("XDG_", "MAI_", "PYTHON_KEYRING", "LANG"))]
    start = time.perf_counter()
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "bench", "-x", "120", "-y", "40", "env", *env_args, MAI], check=True
    )
    ready = signed_in = 0.0
    try:
        deadline = start + 30
        while time.perf_counter() < deadline:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "bench"], capture_output=True, text=True)
            now = time.perf_counter() - start
            if not ready and READY_TEXT in screen.stdout:
                ready = now
            if SIGNED_IN_TEXT in screen.stdout:
                signed_in = now
                break
            time.sleep(0.01)  # the polling interval of the harness, not a wait for the app
        else:
            raise RuntimeError("the TUI did not become ready within 30 s")
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
    return ready, signed_in


def summary(label: str, values: list[float]) -> str:
    return f"| {label} | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} | {len(values)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    if not shutil.which("tmux"):
        sys.exit("tmux is needed (make setup installs it)")

    with tempfile.TemporaryDirectory(prefix="mai-bench-") as folder:
        home = Path(folder)
        env = environment(home)
        time_command([MAI, "--version"], env)  # warm the file cache and bytecode once
        version = [time_command([MAI, "--version"], env) for _ in range(options.runs)]
        help_ = [time_command([MAI, "--help"], env) for _ in range(options.runs)]

        cold_ready, cold_signed_in = time_tui(env, f"mai-bench-{os.getpid()}")  # creates and migrates the database
        ready: list[float] = []
        signed_in: list[float] = []
        for run in range(options.runs):
            first, second = time_tui(env, f"mai-bench-{os.getpid()}-{run}")
            ready.append(first)
            signed_in.append(second)

    print("| measurement (seconds) | median | min | max | runs |")
    print("|---|---|---|---|---|")
    print(summary("mai --version", version))
    print(summary("mai --help", help_))
    print(summary("TUI first screen ready for input", ready))
    print(summary("TUI database open, user signed in", signed_in))
    print(summary("TUI first launch: ready (new database)", [cold_ready]))
    print(summary("TUI first launch: signed in (creates + migrates)", [cold_signed_in]))


if __name__ == "__main__":
    main()
