"""The Textual app: the controller. Screens post intents; work runs in workers here.

The first frame needs only the brand, theme and language (read quickly with `peek`); the
settings are validated, the database opened (and migrated) in a worker right after it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from mai_tui.i18n import _, set_language
from mai_tui.locations import DEFAULT_BRAND, DEFAULT_THEME, Paths, peek
from mai_tui.tui.screens.home import HomeScreen
from mai_tui.tui.themes import register_themes

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext

log = logging.getLogger(__name__)


@dataclass
class SignedIn(Message):
    """Settings are valid, the database is ready and the current user is known."""

    context: AppContext
    name: str
    role: str


@dataclass
class StartupFailed(Message):
    reason: str


class MaiApp(App[None]):
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", _("Quit"), id="app.quit", priority=True)]

    def __init__(self) -> None:
        super().__init__()
        self.paths = Paths.from_environment()
        self.context: AppContext | None = None
        language = peek("language", "")
        set_language(language or None)
        self.title = peek("webui_name", DEFAULT_BRAND)
        self.theme_problems = register_themes(self, self.paths)
        theme = peek("theme", DEFAULT_THEME)
        if theme in self.available_themes:
            self.theme = theme

    def on_mount(self) -> None:
        self.push_screen(HomeScreen())
        # After the first paint: validate settings and open (and migrate) the database in a thread.
        self.call_after_refresh(self.run_worker, self._start, thread=True, name="startup", exit_on_error=False)

    def _start(self) -> None:
        from mai_tui.core.context import load_context
        from mai_tui.core.errors import MaiError

        try:
            context = load_context()
            with context.session() as session:
                user = context.current_user(session)
                self.post_message(SignedIn(context, user.name, user.role))
        except MaiError as error:
            self.post_message(StartupFailed(str(error)))
        except Exception as error:  # never die silently in a worker: show it, log the details
            log.exception("start-up failed")
            self.post_message(StartupFailed(f"{type(error).__name__}: {error}".splitlines()[0]))

    def on_signed_in(self, message: SignedIn) -> None:
        self.context = message.context
        self.screen.query_one(HomeScreen.STATUS, Static).update(
            _("Signed in as {name} ({role}).").format(name=message.name, role=message.role)
        )

    def on_startup_failed(self, message: StartupFailed) -> None:
        self.screen.query_one(HomeScreen.STATUS, Static).update(
            _("Cannot start: {reason}").format(reason=message.reason)
        )
        self.notify(message.reason, title=_("Start-up"), severity="error", timeout=30)
