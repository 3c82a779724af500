"""The models screen: every model of the catalogue with its context length and list prices,
filtered by text and provider; each provider's connection status; the default model; and
the presets ("workspace models") a new chat can start from.

Reading the catalogue and the presets is a quick database read on the UI thread; listing
the providers' models (network) runs in a thread worker. A provider that fails keeps its
cached list. Setting the default model and starting a chat are the app's work: this screen
posts `SetDefault` and `StartChat`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Select, Static, TabbedContent, TabPane

from mai_tui.core.chat import presets
from mai_tui.core.chat.sanitize import inert
from mai_tui.core.errors import MaiError
from mai_tui.i18n import _, ngettext
from mai_tui.tui.screens.preset_form import PresetForm

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.core.providers.catalogue import Listing
    from mai_tui.core.store.models import Preset

ALL = "*"  # the provider filter's "all providers" (no provider is named so)
FILTER_DELAY = 0.12  # seconds: typing fast filters once, not on every key
DEFAULT_MARK = "★"


@dataclass(frozen=True)
class Row:
    """One model of the catalogue, with its cells formatted once (filtering only picks rows)."""

    id: str  # provider/model
    provider: str
    cells: tuple[Text, ...]  # model, provider, context, input and output price

    def matches(self, words: list[str], provider: str) -> bool:
        if provider != ALL and self.provider != provider:
            return False
        low = self.id.lower()
        return all(word in low for word in words)


def price(value: Decimal | None) -> str:
    """A list price per million tokens: `$2.50`, `$0.075`, `free`, `varies` (OpenRouter's -1)."""
    if value is None:
        return "—"
    if value < 0:
        return _("varies")
    if value == 0:
        return _("free")
    shown = value.normalize()
    if -shown.as_tuple().exponent < 2:  # type: ignore[operator]
        shown = shown.quantize(Decimal("0.01"))
    return f"${shown:f}"


def context_length(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


class ModelsScreen(Screen[None]):
    CSS_PATH = "models.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", _("Back"), id="models.back"),
        Binding("slash", "filter", _("Filter"), id="models.filter"),
        Binding("d", "set_default", _("Set default"), id="models.default"),
        Binding("r", "refresh", _("Refresh list"), id="models.refresh"),
        Binding("t", "test", _("Test connections"), id="models.test"),
        Binding("p", "tab('presets')", _("Presets"), id="models.presets"),
        Binding("m", "tab('models')", _("Models"), id="models.models"),
        Binding("c", "start_chat", _("New chat"), id="models.start_chat"),  # Enter on a preset too
        Binding("n", "new_preset", _("New preset"), id="models.new_preset"),
        Binding("e", "edit_preset", _("Edit"), id="models.edit_preset"),
        Binding("delete,x", "delete_preset", _("Delete"), id="models.delete_preset"),
    ]

    @dataclass
    class SetDefault(Message):
        """Make `model` the default model (config.toml)."""

        model: str

    @dataclass
    class StartChat(Message):
        """A new chat that uses the preset."""

        preset: Preset

    def __init__(self, context: AppContext, *, org: str | None = None, tab: str = "models") -> None:
        super().__init__()
        self.context = context
        self.org = org  # whose OpenRouter key lists the models
        self.tab = tab
        self.rows: list[Row] = []
        self.shown: list[Row] = []
        self.presets: list[Preset] = []
        self.default = context.settings.default_model
        self.status: dict[str, str] = {}  # provider -> its status line
        self.provider = ALL  # the provider filter applied
        # the default model's mark, then what `mai models list` shows (prices: USD per million tokens)
        self.columns = ("", _("Model"), _("Provider"), _("Context"), _("In $/Mtok"), _("Out $/Mtok"))
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with TabbedContent(initial=f"{self.tab}-tab", id="models-tabs"):
            with TabPane(_("Models"), id="models-tab"):
                with Horizontal(id="models-filters"):
                    yield Input(placeholder=_("Filter: part of a name, e.g. claude sonnet"), id="models-filter")
                    yield Select([(_("all providers"), ALL)], value=ALL, allow_blank=False, id="models-provider")
                yield Static("", id="models-status", markup=False)
                yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="models-count", markup=False)
            with TabPane(_("Presets"), id="presets-tab"):
                yield Static("", id="presets-empty", markup=False)
                yield DataTable(id="presets-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="presets-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _("Models")
        table = self.query_one("#models-table", DataTable)
        for title in self.columns:
            table.add_column(title)
        listing = self.query_one("#presets-table", DataTable)
        for title in (_("Name"), _("Model"), _("Temperature"), _("Max tokens"), _("Collection")):  # prompt: under it
            listing.add_column(title)
        self.load_models()
        self.load_presets()
        self.check(refresh=False)
        self._focus_tab()

    # --- the catalogue ------------------------------------------------------------------
    def load_models(self) -> None:
        """Read the cached catalogue (every provider) and show it through the filters."""
        from mai_tui.core.providers import catalogue

        with self.context.session(write=False) as session:
            entries = catalogue.cached(session)
            texts = [
                (
                    e.id,
                    e.provider,
                    context_length(e.context_length),
                    price(e.input_price_per_mtok),
                    price(e.output_price_per_mtok),
                )
                for e in entries
            ]
        # Numbers right-aligned (the table does not justify cells), as wide on every filter.
        widths = [max([len(title), *(len(row[n]) for row in texts)]) for n, title in enumerate(self.columns[1:])]
        self.rows = [
            Row(
                model,
                provider,
                (Text(model), Text(provider), *(Text(cell.rjust(widths[n])) for n, cell in enumerate(numbers, 2))),
            )
            for model, provider, *numbers in texts
        ]
        providers = sorted({row.provider for row in self.rows} | set(self.status))
        choice = self.query_one("#models-provider", Select)
        selected = choice.value
        choice.set_options([(_("all providers"), ALL), *((name, name) for name in providers)])
        choice.value = selected if selected in providers else ALL
        self.show_models()

    def show_models(self) -> None:
        """Fill the table with the models that pass the filters; the cursor stays on its model."""
        table = self.query_one("#models-table", DataTable)
        words = self.query_one("#models-filter", Input).value.lower().split()
        chosen = self.query_one("#models-provider", Select).value
        self.provider = chosen if isinstance(chosen, str) else ALL
        keep = self.highlighted_model() or self.default
        self.shown = [row for row in self.rows if row.matches(words, self.provider)]
        table.clear()
        table.add_rows((DEFAULT_MARK if row.id == self.default else "", *row.cells) for row in self.shown)
        ids = [row.id for row in self.shown]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), scroll=True)
        self._count()

    def _count(self) -> None:
        total = len(self.rows)
        line = ngettext("{shown} of {n} model", "{shown} of {n} models", total).format(
            shown=f"{len(self.shown):,}", n=f"{total:,}"
        )
        default = self.default or _("none (d sets the highlighted model)")
        line += " · " + _("default: {model}").format(model=default)
        if not total:
            line = _("No models listed yet: r fetches them from every configured provider.")
        self.query_one("#models-count", Static).update(line)

    def highlighted_model(self) -> str | None:
        table = self.query_one("#models-table", DataTable)
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row].id

    def show_default(self, model: str) -> None:
        """Mark `model` as the default (the app has saved it)."""
        self.default = model
        table = self.query_one("#models-table", DataTable)
        for index, row in enumerate(self.shown):
            table.update_cell_at(Coordinate(index, 0), DEFAULT_MARK if row.id == model else "")
        self._count()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "models-filter":
            if self._filter_timer is not None:
                self._filter_timer.stop()
            self._filter_timer = self.set_timer(FILTER_DELAY, self.show_models)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "models-filter":
            self.show_models()
            self.query_one("#models-table", DataTable).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "models-provider" and event.value != self.provider:
            self.show_models()

    # --- providers: status, refresh -----------------------------------------------------
    def show_status(self) -> None:
        lines = [self.status[name] for name in sorted(self.status)]
        self.query_one("#models-status", Static).update(
            "\n".join(lines) or _("No provider is configured: mai keys set PROVIDER")
        )

    @work(thread=True, exclusive=True, group="models-check", exit_on_error=False)
    def check(self, refresh: bool) -> None:
        """List every configured provider's models (no tokens spent): its status, and with
        `refresh` a fresh catalogue (a provider listed for the first time is always stored)."""
        from mai_tui.core.providers import catalogue
        from mai_tui.core.providers.registry import Providers

        try:
            providers = Providers(self.context.settings, self.context.secrets, org=self.org)
            names = catalogue.configured(providers)
            checking = {name: _("… {provider}: checking").format(provider=name) for name in names}
            self.app.call_from_thread(self._checking, checking)
            with self.context.session(write=False) as session:
                stale = [name for name in names if not catalogue.cached(session, name)]
            listings = asyncio.run(catalogue.fetch(providers, names))
            catalogue.save(self.context, listings, only=None if refresh else stale)
        except Exception as error:  # never die silently in a worker: say what went wrong
            reason = (
                f"{type(error).__name__}: {error}".splitlines()[0] if not isinstance(error, MaiError) else str(error)
            )
            self.app.call_from_thread(self.notify, reason, severity="error", markup=False)
            return
        self.app.call_from_thread(self._checked, listings, refresh or bool(stale))

    def _checking(self, lines: dict[str, str]) -> None:
        if not self.is_attached:  # closed meanwhile
            return
        self.status = lines
        self.show_status()

    def _checked(self, listings: list[Listing], reload: bool) -> None:
        from mai_tui.core.providers import catalogue

        if not self.is_attached:  # closed meanwhile
            return
        self.status = {listing.provider: catalogue.status_line(listing) for listing in listings}
        self.show_status()
        failed = [listing for listing in listings if listing.error is not None]
        if reload:
            self.load_models()
            if failed:
                names = ", ".join(listing.provider for listing in failed)
                self.notify(
                    _("Not refreshed: {names} (their cached lists are kept).").format(names=names),
                    severity="warning",
                    markup=False,
                )

    def action_refresh(self) -> None:
        self.check(refresh=True)

    def action_test(self) -> None:
        self.check(refresh=False)

    def action_set_default(self) -> None:
        model = self.highlighted_model()
        if model is not None:
            self.post_message(self.SetDefault(model))

    def action_filter(self) -> None:
        self.query_one(TabbedContent).active = "models-tab"
        self.query_one("#models-filter", Input).focus()

    # --- presets ------------------------------------------------------------------------
    def load_presets(self, select: int | None = None) -> None:
        try:
            self.presets = presets.list_presets(self.context)
        except MaiError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        table = self.query_one("#presets-table", DataTable)
        highlighted = self.highlighted_preset()
        keep = select if select is not None else (highlighted.id if highlighted is not None else None)
        table.clear()
        for preset in self.presets:
            table.add_row(
                Text(inert(preset.name)),
                Text(preset.model),
                "—" if preset.temperature is None else f"{preset.temperature:g}",
                "—" if preset.max_tokens is None else f"{preset.max_tokens:,}",
                Text(f"#{preset.collection}" if preset.collection else "—"),
                key=str(preset.id),
            )
        ids = [preset.id for preset in self.presets]
        if keep in ids:
            table.move_cursor(row=ids.index(keep))
        empty = self.query_one("#presets-empty", Static)
        empty.update(
            ""
            if self.presets
            else _(
                "No presets yet. A preset is a model with its system prompt, temperature, max tokens and, "
                "if you like, a collection of documents searched for every prompt.\n"
                "n creates one; Enter (or c) on a preset starts a new chat with it."
            )
        )
        empty.display = not self.presets
        table.display = bool(self.presets)
        self.refresh_bindings()

    def highlighted_preset(self) -> Preset | None:
        table = self.query_one("#presets-table", DataTable)
        if not self.presets or not 0 <= table.cursor_row < len(self.presets):
            return None
        return self.presets[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "presets-table":
            preset = self.highlighted_preset()
            detail = self.query_one("#presets-detail", Static)
            if preset is None:
                detail.update("")
            elif preset.system_prompt:
                detail.update(_("System prompt: {text}").format(text=inert(preset.system_prompt)))
            else:
                detail.update(_("No system prompt."))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "presets-table":
            self.action_start_chat()

    def action_start_chat(self) -> None:
        preset = self.highlighted_preset()
        if preset is not None:
            self.post_message(self.StartChat(preset))

    def _form(self, current: Preset | None) -> PresetForm:
        try:
            collections = presets.collection_names(self.context)
        except MaiError:
            collections = []
        if current is None:
            save = lambda spec: presets.add_preset(self.context, spec)  # noqa: E731
        else:
            save = lambda spec: presets.update_preset(self.context, current.id or 0, spec)  # noqa: E731
        return PresetForm(save, models=[row.id for row in self.rows], collections=collections, current=current)

    def _saved(self, preset: Preset | None) -> None:
        if preset is not None:
            self.load_presets(select=preset.id)
            self.notify(_("Preset '{name}' saved.").format(name=preset.name), markup=False)

    def action_new_preset(self) -> None:
        self.query_one(TabbedContent).active = "presets-tab"
        self.app.push_screen(self._form(None), self._saved)

    def action_edit_preset(self) -> None:
        preset = self.highlighted_preset()
        if preset is not None:
            self.app.push_screen(self._form(preset), self._saved)

    def action_delete_preset(self) -> None:
        from mai_tui.tui.screens.dialogs import ConfirmDialog

        preset = self.highlighted_preset()
        if preset is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                presets.remove_preset(self.context, preset.id or 0)
            except MaiError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            self.load_presets()
            self.notify(_("Preset '{name}' deleted.").format(name=preset.name), markup=False)

        question = _("Delete the preset '{name}'? Conversations started from it keep their settings.").format(
            name=preset.name
        )
        self.app.push_screen(ConfirmDialog(question, _("Delete")), answered)

    # --- moving around ------------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"{tab}-tab"
        self._focus_tab()

    def _focus_tab(self) -> None:
        on_presets = self.query_one(TabbedContent).active == "presets-tab"
        self.query_one("#presets-table" if on_presets else "#models-table", DataTable).focus()

    def on_tabbed_content_tab_activated(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Each tab's keys on its tab only."""
        on_presets = self.query_one(TabbedContent).active == "presets-tab"
        if action == "tab":
            return parameters[0] != ("presets" if on_presets else "models")
        if action in ("set_default", "refresh", "test", "filter"):
            return not on_presets
        if action == "new_preset":
            return on_presets
        if action in ("start_chat", "edit_preset", "delete_preset"):
            return on_presets and bool(self.presets)
        return True

    def action_back(self) -> None:
        self.dismiss()
