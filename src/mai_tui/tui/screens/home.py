"""The first screen: the brand, where things stand, and what to do next."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from mai_tui.i18n import _


class HomeScreen(Screen[None]):
    STATUS = "#status"

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with Center(), Vertical(id="welcome"):
            yield Static(self.app.title, id="brand")
            yield Static(_("Chat with any provider, ask your documents, see every cent."), id="tagline")
            yield Static(_("Opening the database…"), id="status")
            yield Static(_("Press Ctrl+P for commands, Ctrl+Q to quit."), id="hint")
        yield Footer()
