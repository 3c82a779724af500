"""The settings screen: every setting of config.toml, and the API keys, in one form.

The rows come from `core.settings_edit.describe_settings` (the pydantic model), one tab per
section; a tab's rows are built when it is first shown (the keymap alone has a row per
binding). A text field says at once when its value cannot be right; Ctrl+S posts `Save`
with what changed, and the app validates all of it with the whole file, writes it once
(keeping the user's comments), stores the keys typed, and applies what it can at once. A
setting the environment sets is read-only: the environment wins. Keys are typed masked and
never shown back: a row only says whether a key is stored, and where.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Header, Input, Static, TabbedContent, TabPane

from mai_tui.core.settings_edit import SECTIONS, KeyStatus, SettingInfo
from mai_tui.i18n import _, ngettext
from mai_tui.tui.screens.dialogs import ConfirmDialog
from mai_tui.tui.widgets.setting_rows import ErrorLine, KeyRow, NewEndpointRow, SettingRow, initial_value

if TYPE_CHECKING:
    from collections.abc import Iterator

NEW_ENDPOINT = "providers.custom.*"  # the problems of the "add an endpoint" row


def section_title(section: str) -> str:
    titles = {
        "general": _("General"),
        "providers": _("Providers"),
        "knowledge": _("Knowledge"),
        "voice": _("Voice"),
        "sync": _("Usage sync"),
        "keymap": _("Keymap"),
        "advanced": _("Advanced"),
    }
    return titles.get(section, section)


def known_bindings() -> dict[str, tuple[str, str]]:
    """Every binding id of the app's screens and widgets: id -> (default keys, description)."""
    import mai_tui.tui.screens
    import mai_tui.tui.widgets

    for package in (mai_tui.tui.screens, mai_tui.tui.widgets):  # screens not opened yet are not loaded yet
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")

    def subclasses(cls: type[DOMNode]) -> Iterator[type[DOMNode]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found: dict[str, tuple[str, str]] = {}
    for cls in subclasses(DOMNode):
        if cls.__module__.startswith("mai_tui."):
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id:
                    found.setdefault(binding.id, (binding.key, binding.description))
    return dict(sorted(found.items()))


class SettingsScreen(Screen[None]):
    CSS_PATH = "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", _("Save"), id="settings.save", priority=True),
        Binding("escape", "back", _("Back"), id="settings.back"),
    ]

    @dataclass
    class Save(Message):
        """Write `changes` (dotted key -> value; None: back to the default) and store `keys`."""

        changes: dict[str, Any]
        keys: dict[str, str] = field(repr=False)  # provider -> API key: never shown, never logged

    @dataclass
    class DeleteKey(Message):
        name: str

    def __init__(self, fields: list[SettingInfo], keys: list[KeyStatus], *, backend: str) -> None:
        super().__init__()
        self.fields = fields
        self.keys = keys
        self.backend = backend  # where keys are kept: the OS keyring, or the plain-text file
        self.rows: dict[str, SettingRow] = {}  # setting key -> its row (of the tabs built so far)
        self.key_rows: dict[str, KeyRow] = {}  # provider -> its key row
        self.built: set[str] = set()  # sections whose rows are mounted

    @property
    def sections(self) -> list[str]:
        present = {info.section for info in self.fields} | {"providers"}  # keys and new endpoints live there
        return [section for section in SECTIONS if section in present]

    # --- building the form --------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self.rows.clear()
        self.key_rows.clear()
        self.built.clear()
        first = self.sections[0]
        yield Header(show_clock=False, icon="◆")
        yield Static(
            _("Ctrl+S saves to config.toml (your comments are kept) · Esc leaves"), id="settings-intro", markup=False
        )
        yield Static("", id="settings-problems", markup=False)
        with TabbedContent(id="settings-tabs"):
            for section in self.sections:
                with TabPane(section_title(section), id=f"tab-{section}"):
                    # the first tab is built now, the others when first shown
                    yield VerticalScroll(*(self._rows(section) if section == first else ()), id=f"rows-{section}")
        self.built.add(first)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _("Settings")

    def _rows(self, section: str) -> Iterator[Widget]:
        infos = [info for info in self.fields if info.section == section]
        if section == "providers":
            builtin = [info for info in infos if not info.key.startswith("providers.custom.")]
            yield from (self._row(info) for info in builtin)
            yield Static(_("Custom endpoints (OpenAI-compatible, used as NAME/model)"), classes="setting-heading")
            yield from (self._row(info) for info in infos if info not in builtin)
            yield NewEndpointRow()
            yield Static(_("API keys"), classes="setting-heading")
            yield Static(_("Kept in: {place}").format(place=self.backend), classes="setting-help", markup=False)
            for status in self.keys:
                self.key_rows[status.name] = KeyRow(status)
                yield self.key_rows[status.name]
        else:
            yield from (self._row(info) for info in infos)

    def _row(self, info: SettingInfo) -> SettingRow:
        self.rows[info.key] = SettingRow(info)
        return self.rows[info.key]

    async def build(self, section: str) -> None:
        """Mount the rows of a tab not shown yet."""
        if section in self.built:
            return
        self.built.add(section)
        await self.query_one(f"#rows-{section}", VerticalScroll).mount_all(list(self._rows(section)))

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            await self.build(event.pane.id.removeprefix("tab-"))

    # --- reading the form ---------------------------------------------------------------
    def widget_for(self, key: str) -> Widget:
        """The field of a setting (its tab must have been shown)."""
        return self.rows[key].field

    def error_for(self, key: str) -> ErrorLine:
        if key == NEW_ENDPOINT:
            return self.query_one(NewEndpointRow).error
        if key.startswith("keys."):
            return self.key_rows[key.removeprefix("keys.")].error
        return self.rows[key].error

    def changes(self) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        """What changed since the form was shown: settings, keys typed, and problems found here."""
        changes: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for key, row in self.rows.items():
            value = row.value
            if not row.info.editable or value == initial_value(row.info):
                continue
            if key.startswith("providers.custom.") and not value:  # an emptied endpoint is removed
                changes[key.removesuffix(".base_url")] = None
            else:
                changes[key] = None if value == "" else value  # empty: back to the default
        for endpoint in self.query(NewEndpointRow):
            name, url = endpoint.value
            if name and url:
                changes[f"providers.custom.{name}.base_url"] = url
            elif name or url:
                problems[NEW_ENDPOINT] = _("an endpoint needs a name and an address")
        keys = {name: row.field.value for name, row in self.key_rows.items() if row.field.value}
        return changes, keys, problems

    @property
    def unsaved(self) -> bool:
        changes, keys, problems = self.changes()
        return bool(changes or keys or problems)

    # --- what the app tells the screen --------------------------------------------------
    async def show_problems(self, problems: dict[str, str]) -> None:
        """Each problem next to its field (its tab built if need be); the first one's tab comes to the front."""
        sections = {info.key: info.section for info in self.fields}
        for key in problems:
            if key in sections:
                await self.build(sections[key])
        new = [endpoint.value[0] for endpoint in self.query(NewEndpointRow)]
        placed: dict[str, str] = {}
        elsewhere: list[str] = []
        for key, reason in problems.items():
            target = key.removesuffix(".base_url") + ".base_url" if key.startswith("providers.custom.") else key
            if new and new[0] and key.startswith(f"providers.custom.{new[0]}"):
                target = NEW_ENDPOINT
            is_key = target.startswith("keys.") and target.removeprefix("keys.") in self.key_rows
            if target in self.rows or target == NEW_ENDPOINT or is_key:
                placed.setdefault(target, reason)
            else:
                elsewhere.append(f"{key}: {reason}")
        lines = [*self.rows, *(f"keys.{name}" for name in self.key_rows), *([NEW_ENDPOINT] if new else [])]
        for key in lines:
            self.error_for(key).say(placed.get(key, ""))
        shown = self.query_one("#settings-problems", Static)
        summary = ngettext(
            "Not saved: {n} value needs fixing.", "Not saved: {n} values need fixing.", len(problems)
        ).format(n=len(problems))
        shown.update("\n".join([summary, *elsewhere]) if problems else "")
        shown.display = bool(problems)
        if placed:  # the first problem on the tab in view, else on the first tab that has one
            active = self.query_one(TabbedContent).active.removeprefix("tab-")
            order = {section: index for index, section in enumerate(self.sections)}
            order[active] = -1
            where = {key: sections.get(key, "providers") for key in placed}  # keys and endpoints: providers
            self._reveal(min(placed, key=lambda key: order.get(where[key], len(order))))

    def _reveal(self, key: str) -> None:
        error = self.error_for(key)
        pane = next((node for node in error.ancestors if isinstance(node, TabPane)), None)
        if pane is not None and pane.id:
            self.query_one(TabbedContent).active = pane.id
        target = self.rows[key].field if key in self.rows else error
        self.call_after_refresh(target.focus if target.focusable else target.scroll_visible)
        self.call_after_refresh(error.scroll_visible)

    def show_key(self, status: KeyStatus) -> None:
        """A key was stored or deleted: its row says so (and never shows it)."""
        self.keys = [status if current.name == status.name else current for current in self.keys]
        if status.name in self.key_rows:
            self.key_rows[status.name].show(status)

    async def reload(self, fields: list[SettingInfo], keys: list[KeyStatus]) -> None:
        """After a save: show what the file now says (in place, unless endpoints came or went)."""
        same = [info.key for info in fields] == [info.key for info in self.fields]
        same = same and [status.name for status in keys] == [status.name for status in self.keys]
        self.fields, self.keys = fields, keys
        self.query_one("#settings-problems", Static).display = False
        if same:
            for info in fields:
                if info.key in self.rows:
                    self.rows[info.key].show(info)
            for status in keys:
                self.show_key(status)
            for endpoint in self.query(NewEndpointRow):
                endpoint.clear()
            return
        active = self.query_one(TabbedContent).active
        await self.recompose()
        section = active.removeprefix("tab-")
        if section in self.sections:
            await self.build(section)
            self.query_one(TabbedContent).active = active

    # --- what the user does -------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        row = next((row for row in self.rows.values() if row.field is event.input), None)
        if row is not None:
            result = event.validation_result
            row.error.say("" if result is None or result.is_valid else " ".join(result.failure_descriptions))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("delete-"):
            event.stop()
            self.post_message(self.DeleteKey(event.button.id.removeprefix("delete-")))

    async def action_save(self) -> None:
        changes, keys, problems = self.changes()
        if problems:
            await self.show_problems(problems)
            return
        if not changes and not keys:
            self.notify(_("Nothing to save."))
            return
        self.post_message(self.Save(changes, keys))

    def action_back(self) -> None:
        if not self.unsaved:
            self.dismiss()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.dismiss()

        self.app.push_screen(ConfirmDialog(_("Leave the settings without saving your changes?"), _("Leave")), answered)
