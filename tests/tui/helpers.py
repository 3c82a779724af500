"""Pilot helpers: wait for what the user would wait for, never for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from mai_tui.tui.widgets.prompt import PromptBox

PATIENCE_SECONDS = 30.0  # a deadline for a slow, loaded machine; passing tests never wait this long


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], bool]) -> None:
    """Let the app run until `predicate()` holds."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the app never reached the expected state")
        await pilot.pause(0.01)  # lets the app, its threads and the fake server move on


def steady_cursor(app: Any) -> None:
    """No blinking cursor in the prompt box, redrawn now: a blink caught mid-way makes a snapshot flaky."""
    box = app.screen.query_one(PromptBox)
    box.cursor_blink = False
    box.notify_style_update()  # drops cached lines: one drawn mid-blink would be reused as it is
    box.refresh()
