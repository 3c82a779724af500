"""The interface in other languages: chat screen snapshots, the run-time switch, right-to-left text."""

from __future__ import annotations

from typing import Any

import pytest
from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from mai_tui.config import load_settings
from mai_tui.locations import Paths
from mai_tui.tui.app import MaiApp
from mai_tui.tui.bidi import visual, visual_fields, visual_markdown
from mai_tui.tui.screens.language_picker import LanguagePicker, available_languages
from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import wait_until
from tests.tui.test_chat import ROUTE, ready, send, steady_times, stored

EXCHANGES = {
    "de": ("Wie heißt die Hauptstadt von Frankreich?", "Die Hauptstadt von Frankreich ist **Paris**."),
    "ja": ("フランスの首都はどこですか?", "フランスの首都は**パリ**です。"),
    "ar": ("ما هي عاصمة فرنسا؟", "عاصمة فرنسا هي **باريس**.\n\n```\nprint('Paris')\n```"),
}


@pytest.mark.parametrize("language", ["de", "ja", "ar"])
def test_chat_screen_snapshot_in(
    language: str, snap_compare: Any, openrouter: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAI_LANGUAGE", language)
    prompt, answer = EXCHANGES[language]
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks([answer])))

    async def converse(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await send(pilot, prompt)
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await wait_until(pilot, lambda: "$" in str(pilot.app.sub_title))
        steady_times(pilot.app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=converse)


async def test_the_language_is_switched_from_the_palette_and_saved() -> None:
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        tagline = app.screen.query_one("#tagline", Static)
        assert "Chat with any provider" in str(tagline.render())
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        assert app.screen.query_one(CommandInput).placeholder == "Search for commands…"  # set through _()
        await pilot.press(*"Language")

        def found() -> bool:
            commands = app.screen.query_one(CommandList)
            index = commands.highlighted
            return index is not None and "Language" in str(commands.get_option_at_index(index).prompt)

        await wait_until(pilot, found)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LanguagePicker))
        options = app.screen.query_one(OptionList)
        assert options.highlighted == 0  # English, the language in use
        options.highlighted = available_languages().index("de")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, LanguagePicker))
        await pilot.pause()
        assert "Anbieter" in str(tagline.render())  # "Mit jedem Anbieter chatten, …"
        assert "Angemeldet" in str(app.screen.query_one("#status", Static).render())
    assert load_settings().language == "de"
    assert 'language = "de"' in Paths.from_environment().config_file.read_text()


def test_picker_names_languages_in_their_own_script() -> None:
    from mai_tui.tui.screens.language_picker import language_name

    assert {"en", "de", "ja", "ar", "pt_BR"} <= set(available_languages())
    assert language_name("de", "en") == "Deutsch — German"
    assert language_name("ja", "ja") == "日本語"


def test_right_to_left_lines_are_reordered_and_the_rest_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAI_BIDI", raising=False)
    assert visual("שלום world") == "world םולש"
    assert visual("Hello world\nשלום") == "Hello world\nםולש"
    english = "# Title\n\n- a *b* [c](https://d)\n\n```\nx = 1\n```"
    assert visual_markdown(english) is english
    source = "# عنوان\n- مرحبا\nplain\n```\nقيمة = 1\n```\n| اسم | 1 |"
    assert visual_markdown(source).split("\n") == [
        "# ناونع",  # the heading marker stays in front
        "- ابحرم",
        "plain",
        "```",
        "قيمة = 1",  # code is left as written
        "```",
        "| مسا | 1 |",  # each cell on its own: the columns keep their order
    ]
    assert visual_fields("gpt-4o · 12 → 1 رموز · 1.5 s") == "gpt-4o · زومر 1 → 12 · 1.5 s"  # fields keep their order
    monkeypatch.setenv("MAI_BIDI", "off")  # for terminals that reorder themselves
    assert visual("שלום") == "שלום"
    assert visual_markdown(source) == source
