"""Models and presets in the chat: the models screen (F6), the default model, and a new chat
started from a preset.

A preset chosen for a new chat sets the app's model and pending parameters (the header and
the settings dialog show them), and its id goes with the first prompt to `prepare_turn`,
which stores the preset and its collection with the new conversation. Nothing heavy is
imported here at module level (the first frame must stay light).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from textual import on
from textual.app import App

from mai_tui.core.chat.parameters import Parameters
from mai_tui.i18n import _
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.widgets.prompt import PromptBox

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.core.providers.registry import Providers
    from mai_tui.tui.screens.models import ModelsScreen


class ChatModels(App[None]):
    """The app's models screen and presets; `MaiApp` provides `chat`, `context`, `model` and `pending`."""

    context: AppContext | None
    providers: Providers | None
    model: str | None
    pending: Parameters
    preset_id: int | None = None  # the preset of the next new conversation

    if TYPE_CHECKING:  # the app that includes this defines them

        @property
        def chat(self) -> ChatScreen: ...

        def _header_totals(self) -> None: ...

        async def on_chat_screen_new_chat(self) -> None: ...

    @on(ChatScreen.NewChat)
    def _forget_preset(self) -> None:
        """Ctrl+N: a new chat without a preset (Textual runs this beside MaiApp's own handler)."""
        self.preset_id = None

    def open_models(self, tab: str = "models") -> None:
        """The models screen, on its "models" or "presets" tab."""
        from mai_tui.tui.screens.models import ModelsScreen  # loads the database layer: only when asked

        if self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
            return
        org = self.providers.org if self.providers is not None else None
        self.push_screen(ModelsScreen(self.context, org=org, tab=tab))

    def on_models_screen_set_default(self, message: ModelsScreen.SetDefault) -> None:
        """Write `default_model` to config.toml; the header and the screen follow at once."""
        from mai_tui.config import set_config_value
        from mai_tui.core.errors import MaiError
        from mai_tui.tui.screens.models import ModelsScreen

        if self.context is None:
            return
        try:
            set_config_value("default_model", message.model)
        except MaiError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.context.settings.default_model = message.model
        for screen in self.screen_stack:
            if isinstance(screen, ModelsScreen):
                screen.show_default(message.model)
        self._header_totals()
        self.notify(_("Default model: {model} (saved in config.toml).").format(model=message.model), markup=False)
        if os.environ.get("MAI_DEFAULT_MODEL"):
            self.notify(
                _("MAI_DEFAULT_MODEL is set in the environment: it wins over config.toml when mai starts again."),
                severity="warning",
                markup=False,
            )

    async def on_models_screen_start_chat(self, message: ModelsScreen.StartChat) -> None:
        """Back to the chat, with a new conversation pending that uses the preset."""
        preset = message.preset
        while len(self.screen_stack) > 1 and self.screen is not self.chat:
            self.pop_screen()
        await self.on_chat_screen_new_chat()  # MaiApp's: stops an answer, clears the chat
        self.preset_id = preset.id
        self.model = preset.model
        self.pending = Parameters(preset.system_prompt, preset.temperature, preset.max_tokens)
        self._header_totals()
        notice = _("New chat with the preset '{name}'.").format(name=preset.name)
        if preset.collection:
            notice += " " + _("Every prompt searches {collection}.").format(collection=f"#{preset.collection}")
        self.chat.set_notice(notice)
        self.chat.query_one(PromptBox).focus()
