"""The settings screen (F9): change settings, save, restart, and they hold; comments survive;
invalid values are refused with a message; keys go to the secret store and nowhere else."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static, Switch, TabbedContent

from mai_tui.locations import Paths
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.screens.dialogs import ConfirmDialog
from mai_tui.tui.screens.settings import SettingsScreen
from mai_tui.tui.widgets.prompt import PromptBox
from tests.tui.helpers import wait_until

COMMENTED = """\
# My mai settings: keep this comment
webui_name = "Acme AI"  # the brand, keep this too

[knowledge]
# retrieval tuned for long manuals
top_k = 8
"""
KEY = "mykey0123456789abcdefXYZ"  # not shaped like a provider key: the log's redaction would not catch it


def config_file(text: str = COMMENTED) -> Path:
    path = Paths.from_environment().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def open_settings(pilot: Pilot[Any]) -> SettingsScreen:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)
    await pilot.press("f9")
    await shown(pilot)
    assert isinstance(app.screen, SettingsScreen)
    return app.screen


async def shown(pilot: Pilot[Any]) -> None:
    """Until the settings screen is up, its first tab's fields mounted."""
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen) and app.screen.rows != {})
    screen = app.screen
    assert isinstance(screen, SettingsScreen)
    await wait_until(pilot, lambda: all(row.field.is_mounted for row in screen.rows.values()))
    await pilot.pause()


def field(screen: SettingsScreen, key: str) -> Any:
    return screen.widget_for(key)


def error_of(screen: SettingsScreen, key: str) -> str:
    return screen.error_for(key).text


async def tab(pilot: Pilot[Any], screen: SettingsScreen, section: str) -> None:
    """Show a tab, as a click on it would; its rows are built when first shown."""
    screen.query_one(TabbedContent).active = f"tab-{section}"
    await wait_until(pilot, lambda: section in screen.built)
    await pilot.pause()


class Notes:
    """Every notification the app raised (they expire from the screen, not from here)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.lines.append(str(message.notification.message))


async def save(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()


async def test_settings_round_trip_keeps_comments_and_holds_after_a_restart() -> None:
    path = config_file()
    app, notes = MaiApp(), Notes()
    async with app.run_test(size=(100, 30), message_hook=notes) as pilot:
        screen = await open_settings(pilot)
        assert field(screen, "webui_name").value == "Acme AI"
        model = field(screen, "default_model")
        model.focus()
        await pilot.press(*"mistral")  # typed, as a user would
        model.value = "openai/" + model.value
        field(screen, "theme").value = "mai-light"
        field(screen, "send_on_enter").value = False
        await tab(pilot, screen, "knowledge")
        assert field(screen, "knowledge.top_k").value == "8"
        field(screen, "knowledge.chunk_size").value = "1500"
        assert screen.unsaved
        await save(pilot)
        await wait_until(pilot, lambda: any("At the next start" in line for line in notes.lines))
        text = path.read_text(encoding="utf-8")
        for comment in ("# My mai settings: keep this comment", "# the brand, keep this too", "# retrieval tuned"):
            assert comment in text
        assert 'default_model = "openai/mistral"' in text
        assert 'theme = "mai-light"' in text
        assert "send_on_enter = false" in text
        assert "chunk_size = 1500" in text
        # Applied at once: the theme, Enter, the header's model; the rest says it waits for a restart.
        assert app.theme == "mai-light"
        assert app.chat.query_one(PromptBox).send_on_enter is False
        assert "openai/mistral" in app.sub_title
        assert "At the next start: knowledge.chunk_size." in notes.lines
        assert not screen.unsaved
        await pilot.press("escape")  # nothing unsaved: leaves at once
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))

    again = MaiApp()
    async with again.run_test(size=(100, 30)) as pilot:
        screen = await open_settings(pilot)
        assert again.theme == "mai-light"
        assert again.chat.query_one(PromptBox).send_on_enter is False
        assert "openai/mistral" in again.sub_title
        assert field(screen, "default_model").value == "openai/mistral"
        assert field(screen, "theme").value == "mai-light"
        assert field(screen, "send_on_enter").value is False
        await tab(pilot, screen, "knowledge")
        assert field(screen, "knowledge.chunk_size").value == "1500"
        assert field(screen, "knowledge.top_k").value == "8"


async def test_invalid_values_are_refused_with_a_message_and_nothing_is_written() -> None:
    path = config_file()
    before = os.stat(path).st_mtime_ns, path.read_text(encoding="utf-8")
    app, notes = MaiApp(), Notes()
    async with app.run_test(size=(100, 30), message_hook=notes) as pilot:
        screen = await open_settings(pilot)
        field(screen, "default_model").value = "openai/gpt-4o"  # valid, but not written alone
        await tab(pilot, screen, "sync")
        field(screen, "openrouter_usage_sync_interval").value = "5"
        await pilot.pause()
        assert error_of(screen, "openrouter_usage_sync_interval") == "must be at least 10"  # said while typing
        await tab(pilot, screen, "knowledge")
        field(screen, "knowledge.chunk_overlap").value = "900"
        await tab(pilot, screen, "providers")
        field(screen, "providers.openai.base_url").value = "api.openai.example"
        await save(pilot)
        await wait_until(pilot, lambda: bool(error_of(screen, "knowledge.chunk_overlap")))
        assert "less than half of chunk_size" in error_of(screen, "knowledge.chunk_overlap")
        assert "http://" in error_of(screen, "providers.openai.base_url")
        assert "at least 10" in error_of(screen, "openrouter_usage_sync_interval")
        assert "Not saved: 3 values need fixing." in str(screen.query_one("#settings-problems", Static).render())
        assert any("Nothing was saved" in line for line in notes.lines)
        assert (os.stat(path).st_mtime_ns, path.read_text(encoding="utf-8")) == before
        assert screen.query_one(TabbedContent).active == "tab-providers"  # the first problem's tab

        # Fixed, it saves; leaving with changes asks first.
        field(screen, "openrouter_usage_sync_interval").value = "900"
        field(screen, "knowledge.chunk_overlap").value = "200"
        field(screen, "providers.openai.base_url").value = ""
        await save(pilot)
        await wait_until(pilot, lambda: "openai/gpt-4o" in path.read_text(encoding="utf-8"))
        assert error_of(screen, "knowledge.chunk_overlap") == ""
        field(screen, "webui_name").value = "Other"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
    assert "Other" not in path.read_text(encoding="utf-8")


async def test_an_api_key_is_typed_masked_and_stored_in_the_secret_store_only() -> None:
    path = config_file()
    paths = Paths.from_environment()
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_settings(pilot)
        await tab(pilot, screen, "providers")
        box = screen.query_one("#key-openai", Input)
        assert box.password
        box.focus()
        await pilot.press(*KEY)
        await pilot.pause()
        shown = app.export_screenshot()
        assert KEY not in shown
        await save(pilot)
        await wait_until(pilot, lambda: paths.secrets_file.exists())
        assert json.loads(paths.secrets_file.read_text(encoding="utf-8")) == {"openai": KEY}
        await pilot.pause()
        assert screen.query_one("#key-openai", Input).value == ""  # not kept in the form either
        assert "stored in the key file" in str(screen.query_one("#key-state-openai", Static).render())
        assert KEY not in app.export_screenshot()
        assert KEY not in path.read_text(encoding="utf-8")
        log = paths.log_file.read_text(encoding="utf-8")
        assert "settings saved" in log  # the save was logged, without the key
        assert KEY not in log

        delete = screen.query_one("#delete-openai", Button)
        assert not delete.disabled
        delete.press()
        await wait_until(pilot, lambda: "no key stored" in str(screen.query_one("#key-state-openai", Static).render()))
        assert json.loads(paths.secrets_file.read_text(encoding="utf-8")) == {}


async def test_a_setting_from_the_environment_is_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    path = config_file()
    monkeypatch.setenv("MAI_THEME", "mai-light")
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_settings(pilot)
        theme = field(screen, "theme")
        assert isinstance(theme, Select)
        assert theme.disabled
        assert theme.value == "mai-light"
        row = theme.parent
        assert row is not None
        assert "set by MAI_THEME in the environment" in str(row.query_one(".setting-help", Static).render())
        field(screen, "webui_name").value = "Beta"
        await save(pilot)
        await wait_until(pilot, lambda: "Beta" in path.read_text(encoding="utf-8"))
        assert "theme" not in path.read_text(encoding="utf-8")


async def test_settings_are_in_the_command_palette_and_f2_is_the_parameters() -> None:
    config_file()
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        assert "Parameters" in commands
        commands["Settings"].callback()
        await shown(pilot)
        switch = field(app.screen, "send_on_enter")  # type: ignore[arg-type]
        assert isinstance(switch, Switch)
        assert switch.value is True


def test_settings_screen_snapshot(snap_compare: Any) -> None:
    config_file()

    async def settings(pilot: Pilot[Any]) -> None:
        screen = await open_settings(pilot)
        for box in screen.query(Input):
            box.cursor_blink = False  # a blink caught mid-way makes a snapshot flaky
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=settings)
