"""The rows of the settings screen: one setting, one API key, a new custom endpoint.

A row holds its field (an input, a switch or a select, as the setting's type asks), a help
line and an error line shown only when there is something to say.
"""

from __future__ import annotations

from typing import Any

from textual.containers import Horizontal, Vertical
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch

from mai_tui.core.secrets import Source
from mai_tui.core.settings_edit import KeyStatus, SettingInfo, as_text
from mai_tui.i18n import _


class FieldCheck(Validator):
    """What can be told while typing: a number, within bounds, an http(s) address."""

    def __init__(self, info: SettingInfo) -> None:
        super().__init__()
        self.info = info

    def validate(self, value: str) -> ValidationResult:
        value = value.strip()
        info = self.info
        if not value:
            return self.success()  # empty: back to the default (or "not set")
        if info.kind == "url" and not value.startswith(("http://", "https://")):
            return self.failure(_("expected an http:// or https:// URL"))
        if info.kind in ("int", "float"):
            try:
                number = int(value) if info.kind == "int" else float(value)
            except ValueError:
                return self.failure(_("expected a whole number") if info.kind == "int" else _("expected a number"))
            if info.minimum is not None and number < info.minimum:
                return self.failure(_("must be at least {n}").format(n=as_text(info.minimum)))
            if info.maximum is not None and number > info.maximum:
                return self.failure(_("must be at most {n}").format(n=as_text(info.maximum)))
        return self.success()


class ErrorLine(Static):
    """A problem with the row's value; hidden while there is none."""

    def __init__(self) -> None:
        super().__init__("", classes="setting-error", markup=False)

    def say(self, reason: str) -> None:
        self.update(reason)
        self.set_class(bool(reason), "-shown")

    @property
    def text(self) -> str:
        return str(self.render()) if self.has_class("-shown") else ""


def field_value(widget: Widget) -> Any:
    """What a field holds, comparable with `initial_value`: text (stripped), a bool, or a choice (None: blank)."""
    if isinstance(widget, Input):
        return widget.value.strip()
    if isinstance(widget, Select):
        return None if widget.value is Select.NULL else widget.value
    if isinstance(widget, Switch):
        return widget.value
    raise TypeError(type(widget).__name__)


def initial_value(info: SettingInfo) -> Any:
    """What the field of `info` holds when it is shown."""
    if info.kind == "bool":
        return bool(info.value)
    if info.kind == "choice":
        return info.text if info.text in info.choices else None
    return info.text


class SettingRow(Horizontal):
    """One setting: its dotted name, its field, a help line (bounds, environment) and an error line."""

    def __init__(self, info: SettingInfo) -> None:
        self.info = info
        self.field = self._field(info)
        self.error = ErrorLine()
        name = info.key.removeprefix("keymap.") if info.section == "keymap" else info.key
        super().__init__(
            Label(name, classes="setting-name", markup=False),
            Vertical(
                self.field,
                Static(" · ".join(self._help(info)), classes="setting-help", markup=False),
                self.error,
                classes="setting-body",
            ),
            classes=" ".join(["setting", info.section, *(["read-only"] if info.environment else [])]),
        )

    @staticmethod
    def _help(info: SettingInfo) -> list[str]:
        lines = [info.help] if info.help else []
        if info.bounds:
            lines.append(info.bounds)
        if info.key.startswith("providers.custom."):
            lines.append(_("empty: removes the endpoint"))
        if info.environment:
            lines.append(
                _("set by {variable} in the environment, which wins over config.toml").format(variable=info.environment)
            )
        return lines

    @staticmethod
    def _field(info: SettingInfo) -> Widget:
        disabled = not info.editable
        if info.kind == "bool":
            return Switch(bool(info.value), animate=False, disabled=disabled)
        if info.kind == "choice":
            return Select(
                [(choice, choice) for choice in info.choices],
                value=info.text if info.text in info.choices else Select.NULL,
                allow_blank=info.optional or info.text not in info.choices,
                prompt=_("not set"),
                disabled=disabled,
                compact=True,
            )
        return Input(
            info.text,
            placeholder=info.default_text or _("not set"),
            password=info.sensitive,
            type="integer" if info.kind == "int" else "number" if info.kind == "float" else "text",
            validators=[FieldCheck(info)],
            valid_empty=True,
            disabled=disabled,
            compact=True,
        )

    @property
    def value(self) -> Any:
        return field_value(self.field)

    def show(self, info: SettingInfo) -> None:
        """The value saved (normalised: "info" became "INFO"), as the file now says."""
        self.info = info
        value = initial_value(info)
        if isinstance(self.field, Input | Switch):
            self.field.value = value
        elif isinstance(self.field, Select):
            self.field.value = Select.NULL if value is None else value
        self.error.say("")


class NewEndpointRow(Horizontal):
    """A custom OpenAI-compatible endpoint to add: its NAME and its address."""

    def __init__(self) -> None:
        self.name_field = Input(placeholder=_("NAME"), id="new-endpoint-name", compact=True)
        self.url_field = Input(placeholder="https://…/v1", id="new-endpoint-url", compact=True)
        self.error = ErrorLine()
        super().__init__(
            Label(_("add an endpoint"), classes="setting-name"),
            Vertical(
                Horizontal(self.name_field, self.url_field, classes="setting-pair"),
                self.error,
                classes="setting-body",
            ),
            classes="setting",
        )

    @property
    def value(self) -> tuple[str, str]:
        return self.name_field.value.strip(), self.url_field.value.strip()

    def clear(self) -> None:
        self.name_field.value = self.url_field.value = ""
        self.error.say("")


class KeyRow(Horizontal):
    """An API key: typed masked, never shown back; the row says whether one is stored, and where."""

    def __init__(self, status: KeyStatus) -> None:
        self.status = status
        self.field = Input(
            placeholder=_("type a new key to store it"), password=True, compact=True, id=f"key-{status.name}"
        )
        self.delete = Button(_("Delete"), id=f"delete-{status.name}", compact=True, disabled=not status.stored)
        self.state = Static(key_state(status), classes="setting-help", id=f"key-state-{status.name}", markup=False)
        self.error = ErrorLine()
        super().__init__(
            Label(status.name, classes="setting-name", markup=False),
            Vertical(
                Horizontal(self.field, self.delete, classes="setting-pair"),
                self.state,
                self.error,
                classes="setting-body",
            ),
            classes="setting",
        )

    def show(self, status: KeyStatus) -> None:
        self.status = status
        self.field.value = ""
        self.state.update(key_state(status))
        self.delete.disabled = not status.stored
        self.error.say("")


def key_state(status: KeyStatus) -> str:
    if status.environment:
        return _("from {variable} in the environment (it wins over a stored key)").format(variable=status.environment)
    if status.source is Source.KEYRING:
        return _("stored in the OS keyring")
    if status.source is Source.FILE:
        return _("stored in the key file")
    return _("no key stored")
