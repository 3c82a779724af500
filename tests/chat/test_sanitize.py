"""Escape sequences in answers are shown, not executed."""

from __future__ import annotations

from mai_tui.core.chat.sanitize import inert


def test_escape_sequences_become_visible_text() -> None:
    hostile = "ok\x1b]0;pwned title\x07 \x1b[2J\x1b[31mred\x9b31m\r\x00end"
    shown = inert(hostile)
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "\x9b" not in shown
    assert "\r" not in shown
    assert "\x00" not in shown
    assert shown == "ok␛]0;pwned title␇ ␛[2J␛[31mred\ufffd31m␀end"


def test_ordinary_text_is_untouched() -> None:
    text = "Line one\n\tindented — ünïcödé, 日本語, עברית, emoji 🙂 and `code`"
    assert inert(text) == text
