"""Typing a file or folder path: completion from the file system, as a shell's Tab does."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.suggester import Suggester
from textual.widgets import Input

from mai_tui.i18n import _


def complete_path(typed: str) -> str | None:
    """`typed` completed with the first (alphabetical) entry of its folder that starts with what
    was typed after the last `/`; a folder gets its `/`. None when there is nothing to add.

    Hidden entries are offered only once a `.` is typed. `~` is understood but kept as typed.
    """
    if not typed:
        return None
    head, slash, stem = typed.rpartition("/")
    folder = Path(os.path.expanduser(head + slash)) if slash else Path.cwd()
    try:
        with os.scandir(folder) as entries:
            names = sorted(
                (entry.name, entry.is_dir())
                for entry in entries
                if entry.name.startswith(stem) and (stem.startswith(".") or not entry.name.startswith("."))
            )
    except OSError:  # no such folder (yet), or not ours to read
        return None
    for name, is_dir in names:
        completed = typed + name[len(stem) :] + ("/" if is_dir else "")
        if completed != typed:
            return completed
    return None


class PathSuggester(Suggester):
    """Suggests the completion of a typed path (the Input shows it greyed; → or Tab takes it)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)  # folders change; paths are case-sensitive

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value)  # a slow (network) folder never blocks typing


class PathInput(Input):
    """An Input for a path: Tab completes it (and moves on when there is nothing to complete)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", _("Complete the path"), show=False, id="path.complete"),
    ]

    def __init__(self, value: str = "", *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(value, placeholder=placeholder, suggester=PathSuggester(), id=id)

    def action_complete(self) -> None:
        completed = complete_path(self.value) if self.cursor_at_end else None
        if completed is None:
            self.screen.focus_next()
            return
        self.value = completed
        self.cursor_position = len(completed)
