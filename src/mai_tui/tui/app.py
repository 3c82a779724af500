"""The Textual app: the controller. Screens post intents; work runs in workers here."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding
from textual.message import Message

from mai_tui.core.context import AppContext
from mai_tui.i18n import _
from mai_tui.tui.screens.home import HomeScreen
from mai_tui.tui.themes import register_themes


@dataclass
class SignedIn(Message):
    """The database is ready and the current user is known."""

    name: str
    role: str


@dataclass
class StartupFailed(Message):
    reason: str


class MaiApp(App[None]):
    CSS_PATH = "app.tcss"
    BINDINGS = [Binding("ctrl+q", "quit", _("Quit"), id="app.quit", priority=True)]

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.title = context.settings.webui_name
        self.theme_problems = register_themes(self, context.paths)
        if context.settings.theme in self.available_themes:
            self.theme = context.settings.theme

    def on_mount(self) -> None:
        self.push_screen(HomeScreen())
        # The first frame never waits on the database: open it (and migrate) in a thread.
        self.run_worker(self._open_database, thread=True, name="open-database", exit_on_error=False)

    def _open_database(self) -> None:
        from mai_tui.core.errors import MaiError

        try:
            with self.context.session() as session:
                user = self.context.current_user(session)
                self.post_message(SignedIn(user.name, user.role))
        except MaiError as error:
            self.post_message(StartupFailed(str(error)))

    def on_signed_in(self, message: SignedIn) -> None:
        self.screen.query_one(HomeScreen.STATUS).update(
            _("Signed in as {name} ({role}).").format(name=message.name, role=message.role)
        )

    def on_startup_failed(self, message: StartupFailed) -> None:
        self.screen.query_one(HomeScreen.STATUS).update(_("Database problem: {reason}").format(reason=message.reason))
        self.notify(message.reason, title=_("Database"), severity="error", timeout=10)
