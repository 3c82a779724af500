"""Choose the model for this conversation: fuzzy search over the model catalogue."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mai_tui.i18n import _

SHOWN = 200  # enough to scroll through, few enough to filter on every key


class ModelPicker(ModalScreen[str | None]):
    """Returns `provider/model`, or None when dismissed. Any typed `provider/model` is accepted."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_picker", _("Close"), id="picker.close")]

    def __init__(self, models: list[str], current: str | None) -> None:
        super().__init__()
        self.models = models
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(_("Model for this conversation (now: {model})").format(model=self.current or "—"))
            yield Input(placeholder=_("Type to filter, or a full PROVIDER/MODEL"), id="filter")
            yield OptionList(id="choices")

    def on_mount(self) -> None:
        self._show("")
        self.query_one(Input).focus()

    def _show(self, query: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if query:
            matcher = Matcher(query)
            scored = sorted(((matcher.match(m), m) for m in self.models), key=lambda pair: -pair[0])
            names = [name for score, name in scored if score > 0][:SHOWN]
        else:
            names = self.models[:SHOWN]
        options.add_options(Option(name, id=name) for name in names)
        if names:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.value.strip())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(str(options.get_option_at_index(options.highlighted).id))
        elif "/" in event.value:
            self.dismiss(event.value.strip())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key in ("down", "up"):
            options = self.query_one(OptionList)
            options.action_cursor_down() if key == "down" else options.action_cursor_up()

    def action_dismiss_picker(self) -> None:
        self.dismiss(None)
