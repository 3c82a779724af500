"""The prompt goes to $EDITOR and comes back edited; a failing editor changes nothing."""

from __future__ import annotations

import pytest

from mai_tui.core.editor import edit_text, editor_command
from mai_tui.core.errors import InvalidInput


def test_the_editor_gets_the_text_and_its_changes_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "sed -i -e s/draft/final/")
    assert editor_command() == ["sed", "-i", "-e", "s/draft/final/"]
    assert edit_text("my draft prompt\nline two") == "my final prompt\nline two"


def test_visual_wins_over_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "vi")
    monkeypatch.setenv("VISUAL", "code --wait")
    assert editor_command() == ["code", "--wait"]


def test_a_failing_or_missing_editor_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "false")
    with pytest.raises(InvalidInput, match="exited with status 1"):
        edit_text("keep me")
    monkeypatch.setenv("EDITOR", "/no/such/editor")
    with pytest.raises(InvalidInput, match="cannot start the editor"):
        edit_text("keep me")
