"""The prompt box: Enter sends, Ctrl+J (or Shift+Enter where the terminal tells it apart)
inserts a newline, ↑ in an empty box recalls earlier prompts. After `#` it offers the names
of collections and files, after a `/` at the very start the commands of saved prompts:
↑/↓ choose, Tab or Enter take one, Esc closes the list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from mai_tui.i18n import _
from mai_tui.tui.widgets.references import matching, typed_trigger


class PromptBox(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,shift+enter", "newline", _("New line"), id="prompt.newline", show=False),
        Binding("ctrl+e", "editor", _("Editor"), id="prompt.editor"),
    ]

    @dataclass
    class Submitted(Message):
        """The user sent a prompt."""

        text: str
        filled: bool = False  # a saved prompt already filled in: sent as it is, never expanded again

    @dataclass
    class EditorRequested(Message):
        """Open the prompt in $EDITOR."""

        text: str

    @dataclass
    class Suggestions(Message):
        """The names to offer for the `#…` or leading `/…` being typed (empty: close the list)."""

        names: list[tuple[str, str]]
        highlighted: int
        trigger: str = "#"  # `#`: (name, kind) of collections and files; `/`: (command, title) of saved prompts

    @dataclass
    class NamesWanted(Message):
        """The box got the focus: a good moment to refresh the names offered (collections, files, commands)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)  # type: ignore[arg-type]
        self.sent: list[str] = []
        self._recall = 0
        self.send_on_enter = True  # from the settings: otherwise Enter is a newline and Ctrl+J sends
        self.reference_names: list[tuple[str, str]] = []  # (name, "collection" | "file"), set by the app
        self.command_names: list[tuple[str, str]] = []  # (command, title) of saved prompts, set by the app
        self.suggestions: list[tuple[str, str]] = []
        self.trigger = "#"  # what the suggestions complete: `#` or `/`
        self.suggested = 0  # the highlighted suggestion
        self._dismissed: tuple[int, int] | None = None  # where the `#` or `/` is whose list Esc closed

    def send(self) -> None:
        text = self.text.strip()
        if text:
            self.sent.append(text)
            self._recall = 0
            self.post_message(self.Submitted(text))
            self.clear()

    async def _on_key(self, event: events.Key) -> None:
        if self.suggestions and event.key in ("up", "down", "tab", "enter", "escape"):
            event.prevent_default()
            event.stop()
            if event.key in ("up", "down"):
                step = 1 if event.key == "down" else -1
                self.suggested = (self.suggested + step) % len(self.suggestions)
                self.post_message(self.Suggestions(self.suggestions, self.suggested, self.trigger))
            elif event.key == "escape":
                self._dismissed = self._reference_start()
                self._suggest([])
            else:
                self.accept_suggestion(self.suggested)
            return
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

    # --- `#name` and `/command` completion ------------------------------------------------
    def _typed(self) -> tuple[str, str] | None:
        """(trigger, prefix) being typed at the cursor."""
        row, column = self.cursor_location
        return typed_trigger(self.document.get_line(row)[:column], row)

    def _reference_start(self) -> tuple[int, int] | None:
        typed = self._typed()
        if typed is None:
            return None
        row, column = self.cursor_location
        return row, column - len(typed[1]) - 1

    def set_reference_names(self, names: list[tuple[str, str]]) -> None:
        """The collection and file names to offer (the app refreshes them when the box gets the focus)."""
        self.reference_names = names
        self.update_suggestions()

    def set_command_names(self, names: list[tuple[str, str]]) -> None:
        """The (command, title) of the saved prompts to offer after a leading `/`."""
        self.command_names = names
        self.update_suggestions()

    def update_suggestions(self) -> None:
        """Offer the names that fit the `#…` or `/…` at the cursor (called on every edit and cursor move)."""
        typed = self._typed()
        start = self._reference_start()
        if start != self._dismissed:
            self._dismissed = None
        if (
            typed is None
            or self._dismissed is not None
            or not self.has_focus
            or self.selection.start != self.selection.end
        ):
            self._suggest([])
            return
        trigger, prefix = typed
        names = matching(self.command_names if trigger == "/" else self.reference_names, prefix)
        if len(names) == 1 and names[0][0].lower() == prefix.lower():
            names = []  # typed in full: nothing left to complete, and Enter sends
        self._suggest(names, trigger)

    def _suggest(self, names: list[tuple[str, str]], trigger: str = "#") -> None:
        if names == self.suggestions and (trigger == self.trigger or not names):
            return
        self.suggestions = names
        self.trigger = trigger
        self.suggested = 0
        self.post_message(self.Suggestions(names, 0, trigger))

    def accept_suggestion(self, index: int) -> None:
        """Replace the `#prefix` or `/prefix` at the cursor with `#name ` or `/command ` (also from a click)."""
        start = self._reference_start()
        if start is None or not 0 <= index < len(self.suggestions):
            return
        name = self.suggestions[index][0]
        self.replace(f"{self.trigger}{name} ", start, self.cursor_location, maintain_selection_offset=False)
        self._suggest([])

    def on_text_area_changed(self) -> None:
        self.update_suggestions()

    def on_text_area_selection_changed(self) -> None:
        self.update_suggestions()

    def on_focus(self) -> None:
        self.post_message(self.NamesWanted())

    def on_blur(self) -> None:
        self._suggest([])
