"""The settings screen's work: open it (F9, palette "Settings"), save it, delete a key.

Saving goes through `core.settings_edit.save_settings` (all changes validated with the
whole file, written once, comments kept; keys to the secret store). What the running app
can take at once is applied (theme, Enter behaviour, keymap, default and title model,
brand); the rest takes effect at the next start, and the user is told which.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.widgets import Static

from mai_tui.i18n import _
from mai_tui.tui.widgets.prompt import PromptBox

if TYPE_CHECKING:
    from mai_tui.config import Settings
    from mai_tui.core.context import AppContext
    from mai_tui.core.secrets import SecretStore
    from mai_tui.core.settings_edit import KeyStatus, SettingInfo
    from mai_tui.tui.screens.chat import ChatScreen
    from mai_tui.tui.screens.settings import SettingsScreen

log = logging.getLogger(__name__)

LIVE = ("theme", "send_on_enter", "default_model", "title_model", "webui_name")  # and every keymap.* key


class AppSettings(App[None]):
    """The app's settings screen; `MaiApp` provides `chat`, `context` and `_header_totals`."""

    context: AppContext | None

    if TYPE_CHECKING:  # the app that includes this defines them

        @property
        def chat(self) -> ChatScreen: ...

        def _header_totals(self) -> None: ...

    def open_settings(self) -> None:
        if self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
            return
        if self._settings_screen() is None:
            self._prepare_settings()

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False)
    def _prepare_settings(self) -> None:
        """Read the file, the keys and the app's bindings off the UI thread (the first time loads
        every screen module to list its bindings), then show the screen."""
        try:
            settings = self._current_settings()
            store = self._secret_store(settings)
            fields, keys, backend = self._describe(settings), self._keys(store), store.backend_description()
        except Exception as error:  # never die silently in a worker: show it, log the details
            log.exception("opening the settings failed")
            self.notify(f"{type(error).__name__}: {error}".splitlines()[0], severity="error", markup=False)
            return
        self.call_from_thread(self._show_settings, fields, keys, backend)

    def _show_settings(self, fields: list[SettingInfo], keys: list[KeyStatus], backend: str) -> None:
        from mai_tui.tui.screens.settings import SettingsScreen

        if self._settings_screen() is None:
            self.push_screen(SettingsScreen(fields, keys, backend=backend))

    # --- what the screen shows ----------------------------------------------------------
    def _current_settings(self) -> Settings:
        """The file as it is now (another `mai config set` may have changed it), with the environment."""
        from mai_tui.config import load_settings
        from mai_tui.core.errors import ConfigError

        assert self.context is not None
        try:
            return load_settings()
        except ConfigError as error:  # shown with the settings the app started with; saving names the bad key
            self.notify(str(error), severity="error", markup=False, timeout=15)
            return self.context.settings

    def _describe(self, settings: Settings) -> list[SettingInfo]:
        from mai_tui.core.settings_edit import describe_settings
        from mai_tui.tui.screens.settings import known_bindings

        return describe_settings(settings, bindings=known_bindings(), choices={"theme": sorted(self.available_themes)})

    def _secret_store(self, settings: Settings) -> SecretStore:
        from mai_tui.core.secrets import SecretStore

        assert self.context is not None
        return SecretStore(self.context.paths.secrets_file, tuple(settings.providers.custom))

    def _keys(self, store: SecretStore) -> list[KeyStatus]:
        from mai_tui.core.errors import MaiError
        from mai_tui.core.secrets import PROVIDER_ENVIRONMENT
        from mai_tui.core.settings_edit import KeyStatus, describe_keys

        try:
            return describe_keys(store)
        except MaiError as error:  # an unreadable key file or a failing keyring: say so, show the rows
            self.notify(str(error), severity="error", markup=False)
            return [KeyStatus(name, None, None) for name in (*PROVIDER_ENVIRONMENT, *store.custom_providers)]

    def _settings_screen(self) -> SettingsScreen | None:
        from mai_tui.tui.screens.settings import SettingsScreen

        return next((screen for screen in self.screen_stack if isinstance(screen, SettingsScreen)), None)

    # --- what the screen asks -----------------------------------------------------------
    async def on_settings_screen_save(self, message: SettingsScreen.Save) -> None:
        from mai_tui.core.errors import MaiError
        from mai_tui.core.settings_edit import InvalidSettings, save_settings

        screen = self._settings_screen()
        if self.context is None or screen is None:
            return
        store = self._secret_store(self.context.settings)
        try:
            saved = save_settings(message.changes, keys=message.keys, store=store)
        except InvalidSettings as error:
            await screen.show_problems(error.problems)
            self.notify(_("Nothing was saved: fix the values marked in red."), severity="error")
            return
        except MaiError as error:
            self.notify(str(error), severity="error", markup=False, timeout=15)
            return
        log.info("settings saved: %s; keys stored: %s", ", ".join(saved.values), ", ".join(saved.keys))
        settings = self._current_settings()
        later = self._apply(settings, list(saved.values))
        await screen.reload(self._describe(settings), self._keys(self._secret_store(settings)))
        self.notify(_("Saved to {file}.").format(file=self.context.paths.config_file), markup=False)
        if later:
            self.notify(_("At the next start: {keys}.").format(keys=", ".join(later)), severity="warning", markup=False)

    def on_settings_screen_delete_key(self, message: SettingsScreen.DeleteKey) -> None:
        from mai_tui.core.errors import MaiError
        from mai_tui.core.settings_edit import describe_keys

        screen = self._settings_screen()
        if self.context is None or screen is None:
            return
        store = self._secret_store(self._current_settings())
        try:
            removed = store.delete(message.name)
            [status] = describe_keys(store, [message.name])
        except MaiError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        screen.show_key(status)
        if removed:
            self.notify(_("Deleted the {name} key.").format(name=message.name), markup=False)
        if status.environment:
            self.notify(
                _("Note: {variable} is still set in the environment.").format(variable=status.environment),
                severity="warning",
                markup=False,
            )

    def _apply(self, settings: Settings, changed: list[str]) -> list[str]:
        """Bring the running app up to `settings` where it can; returns the keys that wait for a restart."""
        assert self.context is not None
        current = self.context.settings
        for key in LIVE:
            setattr(current, key, getattr(settings, key))
        current.keymap = settings.keymap
        if settings.theme in self.available_themes:
            self.theme = settings.theme
        self.chat.query_one(PromptBox).send_on_enter = settings.send_on_enter
        self.set_keymap(settings.keymap)
        self.title = settings.webui_name
        self.chat.query_one("#brand", Static).update(settings.webui_name)
        self._header_totals()
        return [key for key in changed if key not in LIVE and not key.startswith("keymap.")]
