"""Add or edit a preset: name, model (the catalogue as suggestions), system prompt,
temperature, max tokens and the collection searched for every prompt."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from mai_tui.core.chat.parameters import parse_parameters
from mai_tui.core.chat.presets import PresetSpec
from mai_tui.core.errors import MaiError
from mai_tui.core.store.models import Preset
from mai_tui.i18n import _


class PresetForm(ModalScreen[Preset | None]):
    """Returns the preset as saved, or None when cancelled. `save` stores what was typed (and
    raises a MaiError to show, keeping the form open)."""

    CSS_PATH = "models.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Cancel"), id="preset_form.cancel"),
        Binding("ctrl+s", "save", _("Save"), id="preset_form.save"),
    ]

    def __init__(
        self,
        save: Callable[[PresetSpec], Preset],
        *,
        models: list[str],
        collections: list[str],
        current: Preset | None = None,
    ) -> None:
        super().__init__()
        self.save = save
        self.models = models
        self.current = current
        names = list(collections)
        if current is not None and current.collection and current.collection not in names:
            names.append(current.collection)  # removed since: saving says so
        self.collections = names

    def compose(self) -> ComposeResult:
        current = self.current
        with VerticalScroll(classes="dialog", id="preset-form"):
            yield Static(
                _("Edit the preset '{name}'").format(name=current.name) if current else _("New preset"),
                markup=False,
                id="preset-form-title",
            )
            yield Label(_("Name"))
            yield Input(
                current.name if current else "", placeholder=_("e.g. Support answers"), compact=True, id="preset-name"
            )
            yield Label(_("Model (PROVIDER/MODEL)"))
            yield Input(
                current.model if current else "",
                placeholder="openrouter/openai/gpt-4o-mini",
                suggester=SuggestFromList(self.models, case_sensitive=False),
                compact=True,
                id="preset-model",
            )
            yield Label(_("System prompt"))
            yield TextArea(current.system_prompt or "" if current else "", id="preset-system", soft_wrap=True)
            with Horizontal(classes="numbers"):
                yield Label(_("Temperature"))
                yield Input(
                    _text(current.temperature if current else None),
                    placeholder=_("default"),
                    compact=True,
                    id="preset-temperature",
                )
                yield Label(_("Max tokens"))
                yield Input(
                    _text(current.max_tokens if current else None),
                    placeholder=_("default"),
                    compact=True,
                    id="preset-max-tokens",
                )
            yield Label(_("Documents searched for every prompt"))
            yield Select(
                [(name, name) for name in self.collections],
                prompt=_("no collection"),
                compact=True,
                value=current.collection if current and current.collection else Select.NULL,
                id="preset-collection",
            )
            yield Static("", classes="problem", id="preset-problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Save"), id="preset-save", variant="primary")
                yield Button(_("Cancel"), id="preset-cancel")

    def on_mount(self) -> None:
        self.query_one("#preset-name", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "preset-save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        collection = self.query_one("#preset-collection", Select).value
        try:
            temperature, max_tokens = parse_parameters(
                self.query_one("#preset-temperature", Input).value, self.query_one("#preset-max-tokens", Input).value
            )
            saved = self.save(
                PresetSpec(
                    name=self.query_one("#preset-name", Input).value,
                    model=self.query_one("#preset-model", Input).value,
                    system_prompt=self.query_one("#preset-system", TextArea).text,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    collection=collection if isinstance(collection, str) else None,
                )
            )
        except MaiError as error:
            self.query_one("#preset-problem", Static).update(str(error))
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _text(number: float | int | None) -> str:
    return "" if number is None else str(number)
