"""Pilot helpers: wait for what the user would wait for, never for a fixed time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], bool], *, attempts: int = 500) -> None:
    """Let the app run until `predicate()` holds (each attempt yields to the app once)."""
    for _ in range(attempts):
        if predicate():
            return
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    raise AssertionError("the app never reached the expected state")
