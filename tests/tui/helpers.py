"""Pilot helpers: wait for what the user would wait for, never for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

PATIENCE_SECONDS = 30.0  # a deadline for a slow, loaded machine; passing tests never wait this long


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], bool]) -> None:
    """Let the app run until `predicate()` holds."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the app never reached the expected state")
        await pilot.pause(0.01)  # lets the app, its threads and the fake server move on
