"""The prompt box: Enter sends, Ctrl+J (or Shift+Enter where the terminal tells it apart)
inserts a newline, ↑ in an empty box recalls earlier prompts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from mai_tui.i18n import _


class PromptBox(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,shift+enter", "newline", _("New line"), id="prompt.newline", show=False),
        Binding("ctrl+e", "editor", _("Editor"), id="prompt.editor"),
    ]

    @dataclass
    class Submitted(Message):
        """The user sent a prompt."""

        text: str

    @dataclass
    class EditorRequested(Message):
        """Open the prompt in $EDITOR."""

        text: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)  # type: ignore[arg-type]
        self.sent: list[str] = []
        self._recall = 0
        self.send_on_enter = True  # from the settings: otherwise Enter is a newline and Ctrl+J sends

    def send(self) -> None:
        text = self.text.strip()
        if text:
            self.sent.append(text)
            self._recall = 0
            self.post_message(self.Submitted(text))
            self.clear()

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" and self.send_on_enter:
            event.prevent_default()
            event.stop()
            self.send()
            return
        if event.key == "up" and not self.text and self.sent:
            event.prevent_default()
            event.stop()
            self._recall = min(self._recall + 1, len(self.sent))
            self.load_text(self.sent[-self._recall])
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        if self.send_on_enter:
            self.insert("\n")
        else:
            self.send()

    def action_editor(self) -> None:
        self.post_message(self.EditorRequested(self.text))
