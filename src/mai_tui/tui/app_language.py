"""The language of the interface, switched at run time (palette "Language").

`_()` looks translations up when a text is drawn, so the chat screen is redrawn in the new
language at once. Key labels (footer, help) are translated when the app starts: they follow at
the next start. The choice is saved as `language` in config.toml.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App

from mai_tui.i18n import _, current_language, set_language

if TYPE_CHECKING:
    from mai_tui.tui.screens.chat import ChatScreen


class AppLanguage(App[None]):
    """Language picker and switch; `MaiApp` provides `chat`."""

    if TYPE_CHECKING:  # the app that includes this defines it

        @property
        def chat(self) -> ChatScreen: ...

    def action_command_palette(self) -> None:
        """Textual's palette, with its placeholder in the user's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(CommandPalette(placeholder=_("Search for commands…"), id="--command-palette"))

    def pick_language(self, redraw: Callable[[], None]) -> None:
        """Offer the shipped languages; `redraw` re-renders what the app drew in the old one."""
        from mai_tui.tui.screens.language_picker import LanguagePicker

        def chosen(code: str | None) -> None:
            if code:
                self.switch_language(code, redraw)

        self.push_screen(LanguagePicker(current_language()), chosen)

    def switch_language(self, code: str, redraw: Callable[[], None]) -> None:
        from mai_tui.config import set_config_value
        from mai_tui.core.errors import MaiError

        try:
            set_config_value("language", code)
        except MaiError as error:  # a broken config.toml: say so, switch nothing
            self.notify(str(error), severity="error", markup=False)
            return
        set_language(code)
        redraw()
        self.notify(_("Language changed; key labels follow at the next start."))
