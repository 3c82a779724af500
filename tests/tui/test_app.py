"""The first screen: brand from WEBUI_NAME, the database opened off the UI thread, themes."""

from __future__ import annotations

from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Static

from mai_tui.locations import Paths
from mai_tui.tui.app import MaiApp, SignedIn, StartupFailed
from tests.tui.helpers import steady_cursor, wait_until


async def test_first_screen_shows_brand_then_the_signed_in_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBUI_NAME", "Acme AI")
    messages: list[Message] = []
    app = MaiApp()
    async with app.run_test(message_hook=messages.append) as pilot:
        assert app.title == "Acme AI"
        assert str(app.screen.query_one("#brand", Static).render()) == "Acme AI"
        await wait_until(pilot, lambda: any(isinstance(m, SignedIn) for m in messages))
        await pilot.pause()
        signed_in = [m for m in messages if isinstance(m, SignedIn)]
        assert [(m.name, m.role) for m in signed_in] == [("tester", "admin")]
        assert app.context is not None
        assert app.context.settings.webui_name == "Acme AI"
        assert "Signed in as tester (admin)" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_a_database_problem_is_shown_not_crashed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    messages: list[Message] = []
    app = MaiApp()
    async with app.run_test(message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: any(isinstance(m, StartupFailed) for m in messages))
        await pilot.pause()
        assert "Cannot start: the database cannot be reached" in str(app.screen.query_one("#status", Static).render())
        assert app.is_running


async def test_a_bad_config_file_is_shown_in_the_app() -> None:
    config_file = Paths.from_environment().config_file
    config_file.parent.mkdir(parents=True)
    config_file.write_text('webui_name = "Acme"\nlog_level = "LOUD"\n')
    messages: list[Message] = []
    app = MaiApp()
    async with app.run_test(message_hook=messages.append) as pilot:
        assert app.title == "Acme"  # the first frame came before validation
        await wait_until(pilot, lambda: any(isinstance(m, StartupFailed) for m in messages))
        [failed] = [m for m in messages if isinstance(m, StartupFailed)]
        assert "log_level" in failed.reason
        assert str(config_file) in failed.reason


async def test_theme_from_settings_and_broken_user_theme_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    themes = Paths.from_environment().config_dir / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text("name = 'broken'\nprimary = 'not-a-colour'\n")
    (themes / "mine.toml").write_text("name = 'mine'\nprimary = '#ff0000'\ndark = false\n")
    monkeypatch.setenv("MAI_THEME", "mine")
    app = MaiApp()
    async with app.run_test():
        assert app.theme == "mine"
        assert "mai-dark" in app.available_themes
        assert "broken" not in app.available_themes
        assert any("broken.toml" in problem for problem in app.theme_problems)


def test_first_screen_snapshot(snap_compare: Any) -> None:
    async def signed_in(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: "Signed in" in str(pilot.app.screen.query_one("#status", Static).render()))
        steady_cursor(pilot.app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=signed_in)
