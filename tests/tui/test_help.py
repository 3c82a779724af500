"""The help (F1, palette "Help"): the keys and commands of the screen the user was on, as they are
bound now, searchable; and a getting-started page that knows whether a provider is set up."""

from __future__ import annotations

from typing import Any

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Markdown, Static, TabbedContent

from mai_tui.locations import Paths
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.screens.help import HelpScreen, key_label
from mai_tui.tui.screens.knowledge import KnowledgeScreen
from mai_tui.tui.screens.parameters import ParametersScreen
from mai_tui.tui.screens.usage import UsageScreen
from mai_tui.tui.widgets.first_steps import FirstSteps
from tests.tui.helpers import steady_cursor, wait_until

OLLAMA = "http://127.0.0.1:11434"


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider is set up (nothing is called: the help only reads the settings)."""
    monkeypatch.setenv("OLLAMA_BASE_URL", OLLAMA)


async def signed_in(pilot: Pilot[Any]) -> MaiApp:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: "Signed in" in str(app.chat.query_one("#status", Static).render()))
    await pilot.pause()
    return app


async def open_help(pilot: Pilot[Any], key: str = "f1") -> HelpScreen:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, HelpScreen)
    return screen


def rows(screen: HelpScreen) -> list[tuple[str, ...]]:
    """(key, name, where, description) of every row shown."""
    table = screen.query_one("#help-keys", DataTable)
    return [tuple(str(cell) for cell in table.get_row_at(index)) for index in range(table.row_count)]


def keys_and_names(screen: HelpScreen) -> list[tuple[str, str]]:
    return [(key, name) for key, name, _where, _description in rows(screen)]


def getting_started(screen: HelpScreen) -> str:
    return screen.query_one("#help-start", Markdown).source


async def test_f1_on_the_chat_lists_its_keys_hidden_ones_the_widgets_and_the_palette(ollama: None) -> None:
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        help_screen = await open_help(pilot)
        assert help_screen.query_one(TabbedContent).active == "keys"  # a provider is set up
        shown = rows(help_screen)
        assert ("Esc", "Stop", "This screen", "Stop the answer being written") in shown
        assert ("Ctrl+N", "New chat", "This screen", "Start a new conversation") in shown
        copy = ("Alt+C", "Copy answer", "This screen", "Copy the last answer to the clipboard")
        assert copy in shown  # not in the footer
        assert ("F6", "Models") in keys_and_names(help_screen)  # a priority key
        assert ("Ctrl+E", "Editor", "Prompt box", "") in shown  # the focused prompt box's own
        assert ("Ctrl+J, Shift+⏎", "New line", "Prompt box", "") in shown
        assert ("r", "Rename", "Conversation list", "") in shown  # beside it, not focused
        assert ("Del, d", "Delete", "Conversation list", "") in shown
        assert ("Ctrl+Q", "Quit") in keys_and_names(help_screen)
        assert ("F1", "Help") in keys_and_names(help_screen)
        assert ("Ctrl+P", "Command palette") in keys_and_names(help_screen)
        # palette commands no key stands for
        assert ("", "Export conversation", "Command palette", "This conversation to a Markdown or JSON file") in shown
        assert ("", "Compare models") in keys_and_names(help_screen)
        assert ("", "Send over the limit") in keys_and_names(help_screen)  # the tester is an admin
        names = [name for _key, name in keys_and_names(help_screen)]
        assert names.index("Stop") < names.index("Editor") < names.index("Quit") < names.index("Compare models")
        assert len(shown) == len(set(shown))  # each key once, with all its keys in one row
        assert "Cursor left" not in names  # the text area's editing keys are not this app's

        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_typing_in_the_search_filters_the_rows(ollama: None) -> None:
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        help_screen = await open_help(pilot)
        total = len(rows(help_screen))
        count = help_screen.query_one("#help-count", Static)
        assert str(count.render()) == f"{total} keys and commands"
        await pilot.press(*"COPY")  # the search box has the focus; case does not matter
        assert keys_and_names(help_screen) == [
            ("Alt+C", "Copy answer"),
            ("Alt+K", "Copy code"),
            ("Ctrl+C, Super+C", "Copy selected text"),  # Textual's own, named in our words
        ]
        assert str(count.render()) == f"3 of {total} match “COPY”"
        help_screen.query_one(Input).value = "ctrl+n"  # the key
        await pilot.pause()
        assert keys_and_names(help_screen) == [("Ctrl+N", "New chat")]
        help_screen.query_one(Input).value = "conversation list"  # where
        await pilot.pause()
        assert {name for _key, name in keys_and_names(help_screen)} >= {"Rename", "Pin", "Archive", "Undo delete"}
        help_screen.query_one(Input).value = "markdown or json"  # the description
        await pilot.pause()
        assert keys_and_names(help_screen) == [("", "Export conversation")]
        help_screen.query_one(Input).value = "no such thing"
        await pilot.pause()
        assert rows(help_screen) == []
        help_screen.query_one(Input).value = ""
        await pilot.pause()
        assert len(rows(help_screen)) == total


async def test_a_remapped_key_is_shown_as_the_user_bound_it(ollama: None) -> None:
    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True)
    config.write_text('[keymap]\n"chat.stop" = "ctrl+x"\n"app.help" = "f10"\n"chats.rename" = "n"\n')
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        await pilot.press("f1")  # no longer the help key
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
        help_screen = await open_help(pilot, "f10")
        shown = keys_and_names(help_screen)
        assert ("Ctrl+X", "Stop") in shown
        assert ("Esc", "Stop") not in shown
        assert ("F10", "Help") in shown
        assert ("n", "Rename") in shown  # a widget's key, remapped too
        await pilot.press("f10")  # the help key again closes the help
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_f1_on_another_screen_shows_that_screens_keys(ollama: None) -> None:
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, UsageScreen))
        help_screen = await open_help(pilot)
        shown = keys_and_names(help_screen)
        assert [row for row in shown if row[0] in ("Esc, q", "r", "e", "s")] == [
            ("Esc, q", "Back"),
            ("r", "Refresh"),
            ("e", "Export CSV"),
            ("s", "Sync now"),
        ]
        assert ("Ctrl+N", "New chat") not in shown  # the chat's keys do not work there
        assert ("F1", "Help") in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, UsageScreen))

        await pilot.press("escape", "f5")
        await wait_until(pilot, lambda: isinstance(app.screen, KnowledgeScreen))
        await pilot.pause()
        help_screen = await open_help(pilot)
        shown = keys_and_names(help_screen)
        assert ("n", "New collection") in shown
        assert ("Esc", "Back") in shown
        assert ("a", "Add files") not in shown  # no collection yet: the key does nothing now
        assert ("", "Export conversation") not in shown  # the chat's palette commands neither


async def test_f1_works_on_a_dialog_and_from_the_palette(ollama: None) -> None:
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ParametersScreen))
        help_screen = await open_help(pilot)
        shown = keys_and_names(help_screen)
        assert ("Esc", "Close") in shown
        assert ("Ctrl+Q", "Quit") in shown  # the app's priority keys work on a dialog too
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ParametersScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))

        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Help")
        await pilot.pause(0.3)  # the palette searches in the background
        help_screen = await open_help(pilot, "enter")
        assert ("Ctrl+N", "New chat") in keys_and_names(help_screen)  # the chat's, not the palette's


async def test_getting_started_without_a_provider() -> None:
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        hint = app.chat.query_one(FirstSteps)
        assert hint.display
        assert str(hint.render()) == "No provider is set up yet: press F1 to get started."
        help_screen = await open_help(pilot)
        assert help_screen.query_one(TabbedContent).active == "start"  # what a newcomer needs first
        await wait_until(pilot, lambda: "No provider is set up yet" in getting_started(help_screen))
        text = getting_started(help_screen)
        assert "mai keys set openrouter" in text
        assert "mai config set providers.ollama.base_url http://127.0.0.1:11434" in text
        assert "OLLAMA_BASE_URL=http://127.0.0.1:11434" in text
        assert "mai config set default_model openrouter/openai/gpt-4o-mini" in text
        assert "Quit (`Ctrl+Q`)" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_getting_started_with_ollama_says_what_is_set_up_and_what_next(
    ollama: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        assert not app.chat.query_one(FirstSteps).display
        help_screen = await open_help(pilot)
        help_screen.query_one(TabbedContent).active = "start"
        await wait_until(pilot, lambda: "Set up" in getting_started(help_screen))
        text = getting_started(help_screen)
        assert "Set up: **ollama**." in text
        assert "No default model yet: choose one for this chat with `Ctrl+L`" in text
        assert "`F5` Knowledge" in text
        assert "`F4` Voice" in text
        assert "mai keys set openrouter" not in text

    monkeypatch.setenv("MAI_DEFAULT_MODEL", "ollama/llama3.2")
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        help_screen = await open_help(pilot)
        await wait_until(pilot, lambda: "Set up" in getting_started(help_screen))
        assert "Default model: `ollama/llama3.2`." in getting_started(help_screen)


def test_keys_read_as_people_write_them() -> None:
    shown = [key_label(Binding(key, "x")) for key in ("ctrl+n", "alt+c", "escape", "f5", "delete", "r", "slash")]
    assert shown == ["Ctrl+N", "Alt+C", "Esc", "F5", "Del", "r", "/"]
    assert key_label(Binding("ctrl+up", "x")) == "Ctrl+↑"
    assert key_label(Binding("x", "x", key_display="X!")) == "X!"


def test_keys_tab_snapshot(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", OLLAMA)

    async def search(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        help_screen = await open_help(pilot)
        await pilot.press(*"chat")
        box = help_screen.query_one(Input)
        box.cursor_blink = False
        box.refresh()
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=search)


def test_getting_started_snapshot(snap_compare: Any) -> None:
    async def first_start(pilot: Pilot[Any]) -> None:
        await signed_in(pilot)
        steady_cursor(pilot.app)
        help_screen = await open_help(pilot)
        await wait_until(pilot, lambda: "No provider" in getting_started(help_screen))
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=first_start)
