"""The values of a saved prompt's `{{placeholders}}`, asked for before it is sent."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from mai_tui.core.chat.prompts import Invocation, fill
from mai_tui.core.chat.sanitize import inert
from mai_tui.core.errors import InvalidInput
from mai_tui.i18n import _

PREVIEW_LINES = 6  # of the prompt's text, above the fields


class PromptForm(ModalScreen[str | None]):
    """One field per placeholder; returns the filled prompt, or None when cancelled.

    Tab and Enter move to the next field, Enter on the last one (or Send) sends, Esc cancels.
    A placeholder with a default may be left blank.
    """

    DEFAULT_CSS = """
    PromptForm {
        align: center middle;
    }
    PromptForm #prompt-form-title {
        text-style: bold;
        color: $primary;
    }
    PromptForm #prompt-form-preview {
        height: auto;
        max-height: 8;
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: thick $panel;
        color: $foreground-muted;
    }
    PromptForm .prompt-form-label {
        margin: 1 0 0 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"), id="prompt_form.cancel")]

    def __init__(self, invocation: Invocation) -> None:
        super().__init__()
        self.invocation = invocation
        self.variables = invocation.variables
        self.prefilled = invocation.prefilled()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="prompt-form"):
            title = f"/{self.invocation.command} — {inert(self.invocation.title)}"
            yield Static(title, id="prompt-form-title", markup=False)
            yield Static(inert(_preview(self.invocation.content)), id="prompt-form-preview", markup=False)
            for index, variable in enumerate(self.variables):
                label = variable.name
                if variable.default is not None:
                    label = _("{name} (blank: {default})").format(name=variable.name, default=variable.default or "—")
                yield Label(label, markup=False, classes="prompt-form-label")
                yield Input(
                    self.prefilled.get(variable.name, ""),
                    placeholder=variable.default or "",
                    id=f"prompt-var-{index}",
                )
            yield Static("", id="prompt-form-problem", markup=False, classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(_("Send"), id="send", variant="primary")
                yield Button(_("Cancel"), id="cancel")
            yield Static(_("Tab or Enter: next field · Enter on the last: send · Esc: cancel"), classes="hint")

    @property
    def fields(self) -> list[Input]:
        return list(self.query(Input).results(Input))

    def on_mount(self) -> None:
        fields = self.fields
        empty = next((field for field in fields if not field.value), None)
        if fields:
            (empty or fields[0]).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        fields = self.fields
        if event.input is fields[-1]:
            self._send()
        else:
            fields[fields.index(event.input) + 1].focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self._send()
        else:
            self.dismiss(None)

    def _send(self) -> None:
        values = {variable.name: field.value for variable, field in zip(self.variables, self.fields, strict=True)}
        try:
            text = fill(self.invocation.content, values)
        except InvalidInput as error:
            self.query_one("#prompt-form-problem", Static).update(str(error))
            missing = next(
                (
                    f
                    for v, f in zip(self.variables, self.fields, strict=True)
                    if v.default is None and not f.value.strip()
                ),
                None,
            )
            if missing is not None:
                missing.focus()
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _preview(content: str) -> str:
    lines = content.strip().splitlines()
    if len(lines) <= PREVIEW_LINES:
        return "\n".join(lines)
    return "\n".join([*lines[: PREVIEW_LINES - 1], "…"])
