"""Choose the two or three models to compare: filter the catalogue, Space marks, Enter compares."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from mai_tui.core.chat.compare import MAX_MODELS, MIN_MODELS
from mai_tui.core.chat.sanitize import inert
from mai_tui.i18n import _

SHOWN = 200  # enough to scroll through, few enough to filter on every key


class ModelFilter(Input):
    """The filter: model names have no spaces, so Space is left to mark the highlighted model."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return key != "space" and super().check_consume_key(key, character)


class CompareModels(ModalScreen[list[str] | None]):
    """Returns the marked `provider/model` names in the order they were marked (the columns'
    order), or None when dismissed. A typed full `provider/model` can be marked too."""

    CSS_PATH = "compare.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Close"), id="compare_models.close"),
        Binding("space", "mark", _("Mark"), id="compare_models.mark", priority=True),
        Binding("enter", "confirm", _("Compare"), id="compare_models.compare", priority=True),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
    ]

    def __init__(self, models: list[str], marked: list[str] | None = None) -> None:
        super().__init__()
        self.models = models
        self.marked: list[str] = [m for m in (marked or []) if m][:MAX_MODELS]

    def compose(self) -> ComposeResult:
        with Vertical(id="compare-picker"):
            yield Static(_("Compare models: Space marks 2 or 3, Enter sends the prompt to each"))
            yield ModelFilter(placeholder=_("Type to filter, or a full PROVIDER/MODEL"), id="compare-filter")
            choices: SelectionList[str] = SelectionList(id="compare-choices")
            choices.can_focus = False  # typing always goes to the filter
            yield choices
            yield Static("", id="compare-marked", markup=False)

    def on_mount(self) -> None:
        self._show("")
        self._say_marked()
        self.query_one(Input).focus()

    @property
    def choices(self) -> SelectionList[str]:
        return self.query_one("#compare-choices", SelectionList)

    def _show(self, query: str) -> None:
        if query:
            matcher = Matcher(query)
            scored = sorted(((matcher.match(m), m) for m in self.models), key=lambda pair: -pair[0])
            names = [name for score, name in scored if score > 0][:SHOWN]
            if "/" in query and query not in names:  # a model the catalogue does not list (yet)
                names.insert(0, query)
        else:
            names = list(dict.fromkeys([*self.marked, *self.models]))[:SHOWN]
        choices = self.choices
        choices.clear_options()
        choices.add_options(Selection(Content(inert(name)), name, name in self.marked) for name in names)
        if names:
            choices.highlighted = 0

    def _say_marked(self) -> None:
        shown = "   ".join(f"{index}. {inert(name)}" for index, name in enumerate(self.marked, 1))
        self.query_one("#compare-marked", Static).update(shown or _("No model marked yet."))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.value.strip())

    def on_selection_list_selection_toggled(self, event: SelectionList.SelectionToggled[str]) -> None:
        """Space or a click: the list has toggled the model; the marked list follows, up to three."""
        name = event.selection.value
        if name in self.choices.selected:
            if name in self.marked:
                return
            if len(self.marked) >= MAX_MODELS:
                self.choices.deselect(name)
                self.notify(_("Three models at most: unmark one first."), severity="warning")
                return
            self.marked.append(name)
        elif name in self.marked:
            self.marked.remove(name)
        self._say_marked()

    def action_mark(self) -> None:
        choices = self.choices
        if choices.highlighted is not None:
            choices.toggle(choices.get_option_at_index(choices.highlighted))

    def action_move(self, step: int) -> None:
        choices = self.choices
        choices.action_cursor_down() if step > 0 else choices.action_cursor_up()

    def action_confirm(self) -> None:
        if MIN_MODELS <= len(self.marked) <= MAX_MODELS:
            self.dismiss(list(self.marked))
        else:
            self.notify(_("Mark two or three models with Space, then press Enter."), severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)
