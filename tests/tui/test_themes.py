"""Themes in the running app: a snapshot per built-in theme, the brand in the header, a broken
theme file told once at start, the user's own themes in the picker, and NO_COLOR."""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual.color import Color
from textual.command import CommandInput, CommandList, CommandPalette
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Header, Static

from mai_tui.locations import Paths
from mai_tui.tui.app import MaiApp
from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import steady_cursor, wait_until
from tests.tui.test_chat import ROUTE, ready, send, steady_times, stored


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own colour settings must not leak in (tests/conftest.py does not know them)."""
    for name in ("NO_COLOR", "WEBUI_BRAND_COLOR", "TEXTUAL_COLOR_SYSTEM"):
        monkeypatch.delenv(name, raising=False)


BUILT_IN = ["mai-dark", "mai-light", "mai-high-contrast", "mai-16"]
ANSWER = "# A heading\n\nSome **bold** text and `code`.\n\n- one\n- two\n\n```python\nprint('hi')\n```"


@pytest.mark.parametrize("theme", BUILT_IN)
def test_chat_screen_in_each_built_in_theme(
    snap_compare: Any, openrouter: FakeServer, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    monkeypatch.setenv("MAI_THEME", theme)
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks([ANSWER])))

    async def converse(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await send(pilot, "Show me markdown")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await wait_until(pilot, lambda: "$" in str(pilot.app.sub_title))
        steady_times(pilot.app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=converse)


def header_title(app: MaiApp) -> str:
    return str(app.screen.query_one("HeaderTitle").render())


async def test_brand_name_and_colour_are_in_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBUI_NAME", "Acme AI")
    monkeypatch.setenv("WEBUI_BRAND_COLOR", "#FFD700")
    app = MaiApp()
    async with app.run_test() as pilot:
        header = app.screen.query_one(Header)
        assert "Acme AI" in header_title(app)
        assert str(app.screen.query_one("#brand", Static).render()) == "Acme AI"  # the welcome panel
        assert (header.styles.background, header.styles.color) == (Color.parse("#FFD700"), Color.parse("#000000"))
        app.theme = "mai-light"  # the brand stays whatever the theme
        await pilot.pause()
        assert header.styles.background == Color.parse("#FFD700")


async def test_a_dark_brand_colour_gets_white_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBUI_BRAND_COLOR", "darkred")
    app = MaiApp()
    async with app.run_test():
        header = app.screen.query_one(Header)
        assert (header.styles.background, header.styles.color) == (Color.parse("darkred"), Color.parse("#FFFFFF"))


async def test_without_a_brand_colour_the_header_is_the_themes_panel() -> None:
    app = MaiApp()
    async with app.run_test():
        header = app.screen.query_one(Header)
        assert header.styles.background == Color.parse(app.get_css_variables()["panel"])


async def test_a_bad_brand_colour_leaves_the_header_alone_and_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBUI_BRAND_COLOR", "reed")
    messages: list[Message] = []
    app = MaiApp()
    async with app.run_test(message_hook=messages.append) as pilot:
        header = app.screen.query_one(Header)
        assert header.styles.background == Color.parse(app.get_css_variables()["panel"])
        await wait_until(pilot, lambda: "Cannot start" in str(app.screen.query_one("#status", Static).render()))
        assert "WEBUI_BRAND_COLOR" in str(app.screen.query_one("#status", Static).render())


async def test_broken_theme_files_are_told_once_and_good_ones_are_in_the_picker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = Paths.from_environment().config_dir / "themes"
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("name = 'broken'\nprimary = 'not-a-colour'\n")
    (folder / "half.toml").write_text("name = 'half\n")
    (folder / "sunset.toml").write_text("name = 'sunset'\nprimary = '#FF7F50'\nbackground = '#2B1B17'\n")
    monkeypatch.setenv("MAI_THEME", "nonesuch")
    messages: list[Message] = []
    app = MaiApp()
    async with app.run_test(message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        [told] = [m.notification for m in messages if isinstance(m, Notify)]
        assert told.title == "Themes"
        assert told.severity == "warning"
        assert f"{folder / 'broken.toml'}: bad colour primary = 'not-a-colour'" in told.message
        assert f"{folder / 'half.toml'}: cannot be read as TOML" in told.message
        assert "There is no theme called 'nonesuch': mai-dark is used." in told.message
        assert app.theme == "mai-dark"

        await pick_from_the_palette(pilot, "theme", "Theme")  # Ctrl+P, "Theme": the theme picker
        await pick_from_the_palette(pilot, "sunset", "sunset", open_it=False)
        await wait_until(pilot, lambda: app.theme == "sunset")
        assert "broken" not in app.available_themes


async def pick_from_the_palette(pilot: Pilot[Any], typed: str, first: str, *, open_it: bool = True) -> None:
    """Type into the command palette (opened with Ctrl+P) and take its first hit once it is `first`."""
    if open_it:
        await pilot.press("ctrl+p")

    def fresh_palette() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, CommandPalette) and not screen.query_one(CommandInput).value

    await wait_until(pilot, fresh_palette)
    for key in typed:
        await pilot.press(key)

    def first_hit() -> str:
        hits = pilot.app.screen.query_one(CommandList)
        return str(hits.get_option_at_index(0).prompt).split("\n")[0] if hits.option_count else ""

    await wait_until(pilot, lambda: first_hit() == first)
    await pilot.press("enter")


SVG_COLOURS = re.compile(r'(?:fill: |<rect fill=")#([0-9a-f]{6})')


EXPORT_DEFAULT = "c5c8c6"  # the screenshot's own default text colour (Rich's export theme), not the app's


def colours_in(svg: str) -> set[tuple[int, int, int]]:
    """Text and cell colours of a screenshot (not the window's chrome buttons, which are circles)."""
    found = set(SVG_COLOURS.findall(svg)) - {EXPORT_DEFAULT}
    return {(int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)) for h in found}


async def test_no_color_renders_in_shades_of_grey(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual honours NO_COLOR itself (https://no-color.org): every colour becomes its grey."""
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        steady_cursor(app)
        coloured = colours_in(app.export_screenshot())
    assert any(len({r, g, b}) > 1 for r, g, b in coloured)  # without it, there is colour

    monkeypatch.setenv("NO_COLOR", "1")
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        steady_cursor(app)
        assert app.no_color
        grey = colours_in(app.export_screenshot())
    assert grey
    assert all(r == g == b for r, g, b in grey), sorted(c for c in grey if len(set(c)) > 1)
