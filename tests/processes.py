"""Starting `mai` as a real process from a test."""

from __future__ import annotations

import sys

# Where the test run itself was started as a background job of a non-interactive shell (as a
# CI runner may start it), SIGINT is ignored and children inherit that: Python then never
# raises KeyboardInterrupt. The child restores Ctrl+C's default action, then becomes `command`.
_RESTORE_CTRL_C = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)


def interruptible(command: list[str]) -> list[str]:
    """`command`, started so that SIGINT acts as Ctrl+C at a terminal does."""
    return [sys.executable, "-c", _RESTORE_CTRL_C, *command]
