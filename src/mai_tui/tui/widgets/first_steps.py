"""One line in the chat's welcome panel, shown only while no provider is set up: it points at the help."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from mai_tui.i18n import _
from mai_tui.tui.bidi import visual


class FirstSteps(Static):
    DEFAULT_CSS: ClassVar[str] = """
    FirstSteps {
        display: none;
        width: 100%;
        margin: 1 0 0 0;
        color: $warning;
        content-align: center middle;
    }
    FirstSteps.-shown {
        display: block;
    }
    """

    def show(self, key: str) -> None:
        """Point at the help's getting-started page, opened with `key` (it follows the user's keymap)."""
        self.update(Text(visual(_("No provider is set up yet: press {key} to get started.").format(key=key))))
        self.add_class("-shown")
