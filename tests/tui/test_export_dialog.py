"""The export and import dialogs, driven like a user would: prefilled path, format choice, Enter
writes the file, Esc cancels, problems stay in the dialog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from mai_tui.core.chat.transfer import ExportFormat
from mai_tui.core.context import load_context
from mai_tui.tui.screens.export_dialog import ExportDialog, ImportDialog, with_format
from tests.chat.test_transfer import CHATGPT, seed_branched
from tests.tui.helpers import wait_until


class Host(App[None]):
    """An app that opens one dialog and keeps what it returns."""

    def __init__(self, dialog: ModalScreen[Path | None]) -> None:
        super().__init__()
        self.dialog = dialog
        self.results: list[Path | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


def shown(app: App[Any], selector: str) -> str:
    return str(app.screen.query_one(selector, Static).visual)


async def test_enter_writes_the_prefilled_markdown_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    context = load_context()
    conversation_id = seed_branched(context)
    app = Host(ExportDialog(conversation_id, context))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
        field = app.screen.query_one("#export-path", Input)
        assert field.value == f"~/mai-chat-{conversation_id}.md"
        assert field.has_focus
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.results))
    written = home / f"mai-chat-{conversation_id}.md"
    assert app.results == [written.resolve()]
    assert written.read_text(encoding="utf-8").startswith("# Häufige Fragen 🧪\n")


async def test_choosing_json_changes_the_suffix_and_writes_every_branch(tmp_path: Path) -> None:
    context = load_context()
    conversation_id = seed_branched(context)
    app = Host(ExportDialog(conversation_id, context))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.click("#export-json")
        field = app.screen.query_one("#export-path", Input)
        await wait_until(pilot, lambda: field.value == f"~/mai-chat-{conversation_id}.json")
        field.value = str(tmp_path / "branches.json")
        field.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.results))
    assert app.results == [(tmp_path / "branches.json").resolve()]
    data = json.loads((tmp_path / "branches.json").read_text(encoding="utf-8"))
    assert (data["format"], len(data["messages"])) == ("mai-chat", 7)


async def test_a_problem_stays_in_the_dialog_and_escape_cancels(tmp_path: Path) -> None:
    context = load_context()
    conversation_id = seed_branched(context)
    app = Host(ExportDialog(conversation_id, context))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
        field = app.screen.query_one("#export-path", Input)
        field.value = str(tmp_path / "no-such-folder" / "chat.md")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "there is no folder" in shown(app, "#export-problem"))
        assert isinstance(app.screen, ExportDialog)  # still open, to fix the path
        assert app.results == []
        await pilot.press("escape")
        await wait_until(pilot, lambda: bool(app.results))
    assert app.results == [None]
    assert not (tmp_path / "no-such-folder").exists()


async def test_import_dialog_returns_an_existing_file() -> None:
    app = Host(ImportDialog())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ImportDialog))
        field = app.screen.query_one("#import-path", Input)
        field.value = str(CHATGPT.parent / "missing.json")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "No such file" in shown(app, "#import-problem"))
        field.value = str(CHATGPT)
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.results))
    assert app.results == [CHATGPT.resolve()]


async def test_import_dialog_escape_returns_nothing() -> None:
    app = Host(ImportDialog())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ImportDialog))
        await pilot.press("escape")
        await wait_until(pilot, lambda: bool(app.results))
    assert app.results == [None]


def test_the_suffix_follows_the_format_only_for_export_suffixes() -> None:
    assert with_format("~/a.md", ExportFormat.JSON) == "~/a.json"
    assert with_format("~/a.json", ExportFormat.MARKDOWN) == "~/a.md"
    assert with_format("~/notes.txt", ExportFormat.JSON) == "~/notes.txt"
