"""The help (F1 from any screen, palette "Help"): the keys and commands of the screen the user was
on, and a getting-started page; and, while no provider is set up, a pointer to it in the chat's
welcome panel. The help screen loads only when asked (the first frame must stay light).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from mai_tui.i18n import _
from mai_tui.tui.widgets.first_steps import FirstSteps

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.core.providers.registry import Providers
    from mai_tui.tui.screens.chat import ChatScreen

log = logging.getLogger(__name__)


class AppHelp(App[None]):
    """The app's help; `MaiApp` provides `chat`, `context` and `providers`."""

    # priority: it works on modal screens too, and in widgets that bind F1 themselves
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f1", "help", _("Help"), id="app.help", show=False, priority=True)]
    context: AppContext | None
    providers: Providers | None
    first_steps = False  # no provider to chat with yet: the help opens on its getting-started page

    if TYPE_CHECKING:  # the app that includes this defines it

        @property
        def chat(self) -> ChatScreen: ...

    def needs_first_steps(self, context: AppContext, org: str) -> bool:
        """Nothing to chat with yet? Asked in the start-up worker; a default model counts as set up,
        so the key store (a slow keyring look-up) is read only by someone who has not chosen one."""
        from mai_tui.core.providers.configured import provider_setup

        if context.settings.default_model:
            return False
        try:
            return not provider_setup(context.settings, context.secrets, org=org).ready
        except Exception:  # a hint: never a reason for the start-up to fail
            log.exception("checking the providers failed")
            return False

    def show_first_steps(self, show: bool) -> None:
        """The welcome panel points at the help while no provider is set up."""
        self.first_steps = show
        if show:
            self.chat.query_one(FirstSteps).show(self.chat.key_for("app.help"))

    def action_help(self) -> None:
        """Open the help on the screen in front (F1 again closes it)."""
        from textual.command import CommandPalette

        from mai_tui.tui.screens.help import HelpScreen, chat_keys, key_rows

        screen = next(s for s in reversed(self.screen_stack) if not isinstance(s, CommandPalette))
        if isinstance(screen, HelpScreen):
            screen.dismiss()
            return
        org = self.providers.org if self.providers is not None else None
        self.push_screen(
            HelpScreen(
                key_rows(self, screen),
                chat_keys(self, self.chat),
                self.context,
                org=org,
                start="start" if self.first_steps else "keys",
            )
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            _("Help"), _("The keys and commands of this screen, and how to get started"), self.action_help
        )
