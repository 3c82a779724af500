"""A conversation's system prompt, temperature and max tokens."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from mai_tui.core.chat.parameters import Parameters, parse_parameters
from mai_tui.core.errors import MaiError
from mai_tui.i18n import _


class ParametersScreen(ModalScreen[Parameters | None]):
    """Returns the new parameters (validated), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Close"), id="parameters.close")]

    def __init__(self, current: Parameters) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="parameters"):
            yield Label(_("System prompt"))
            yield TextArea(self.current.system_prompt or "", id="system", soft_wrap=True)
            with Horizontal(classes="numbers"):
                yield Label(_("Temperature"))
                yield Input(_value(self.current.temperature), id="temperature", placeholder=_("default"))
                yield Label(_("Max tokens"))
                yield Input(_value(self.current.max_tokens), id="max_tokens", placeholder=_("default"))
            yield Static("", id="problem")
            with Horizontal(classes="buttons"):
                yield Button(_("Save"), id="save", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        try:
            temperature, max_tokens = parse_parameters(
                self.query_one("#temperature", Input).value, self.query_one("#max_tokens", Input).value
            )
        except MaiError as error:
            self.query_one("#problem", Static).update(str(error))
            return
        system = self.query_one("#system", TextArea).text.strip() or None
        self.dismiss(Parameters(system, temperature, max_tokens))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _value(number: float | int | None) -> str:
    return "" if number is None else str(number)
