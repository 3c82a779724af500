"""Dialogs to export the open conversation to a file, and to pick a file to import.

`ExportDialog` writes the file itself (atomically, off the UI thread) and returns the path it
wrote, or None when cancelled; a problem (no such folder, not yours to export) stays in the
dialog. `ImportDialog` only returns the path: the app runs the import.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, RadioButton, RadioSet, Static

from mai_tui.core.chat.transfer import ExportFormat, default_export_path, save_export
from mai_tui.core.errors import MaiError
from mai_tui.i18n import _
from mai_tui.tui.widgets.paths import PathInput

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext

_SUFFIXES = {f".{fmt.value}" for fmt in ExportFormat}


def with_format(typed: str, fmt: ExportFormat) -> str:
    """The typed path with the suffix of `fmt` when it ends in another export's suffix (.md, .json)."""
    path = Path(typed)
    if path.suffix in _SUFFIXES and path.suffix != f".{fmt.value}":
        return typed[: -len(path.suffix)] + f".{fmt.value}"
    return typed


class ExportDialog(ModalScreen[Path | None]):
    """Asks where and in which format; Enter writes the file, Esc cancels."""

    DEFAULT_CSS = """
    ExportDialog {
        align: center middle;
    }
    ExportDialog RadioSet {
        margin: 0 0 1 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"), id="export.cancel")]

    def __init__(self, conversation_id: int, context: AppContext) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.context = context

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="export-dialog"):
            yield Label(_("Export conversation {id} to a file").format(id=self.conversation_id), markup=False)
            yield PathInput(default_export_path(self.conversation_id), id="export-path")
            with RadioSet(id="export-format"):
                yield RadioButton(_("Markdown — the branch you see, readable anywhere"), value=True, id="export-md")
                yield RadioButton(_("JSON — every branch, can be imported again"), id="export-json")
            yield Static("", id="export-problem", markup=False, classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(_("Export"), id="export", variant="primary")
                yield Button(_("Cancel"), id="cancel")
            yield Static(_("Enter exports · Esc cancels"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#export-path", PathInput).focus()

    @property
    def format(self) -> ExportFormat:
        json_button = self.query_one("#export-json", RadioButton)
        return ExportFormat.JSON if json_button.value else ExportFormat.MARKDOWN

    def on_radio_set_changed(self, _event: RadioSet.Changed) -> None:
        field = self.query_one("#export-path", PathInput)
        field.value = with_format(field.value, self.format)

    async def on_input_submitted(self) -> None:
        await self._export()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            await self._export()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _write(self, target: str, fmt: ExportFormat) -> Path:
        with self.context.session(write=False) as session:
            user = self.context.current_user(session)
            return save_export(session, self.conversation_id, target, fmt, user=user)

    async def _export(self) -> None:
        problem = self.query_one("#export-problem", Static)
        problem.update("")
        try:
            written = await asyncio.to_thread(self._write, self.query_one("#export-path", PathInput).value, self.format)
        except MaiError as error:
            problem.update(str(error))
            return
        self.dismiss(written)


class ImportDialog(ModalScreen[Path | None]):
    """Asks for an export file (ours, Open WebUI's or ChatGPT's); returns its path, or None."""

    DEFAULT_CSS = """
    ImportDialog {
        align: center middle;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"), id="import.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="import-dialog"):
            yield Label(_("Import conversations from a file"))
            yield PathInput(placeholder=_("e.g. ~/Downloads/conversations.json"), id="import-path")
            yield Static(
                _("mai's JSON export, an Open WebUI chat export or ChatGPT's conversations.json · Tab completes"),
                classes="hint",
            )
            yield Static("", id="import-problem", markup=False, classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(_("Import"), id="import", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#import-path", PathInput).focus()

    def on_input_submitted(self) -> None:
        self._choose()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import":
            self._choose()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _choose(self) -> None:
        typed = self.query_one("#import-path", PathInput).value.strip()
        problem = self.query_one("#import-problem", Static)
        if not typed:
            problem.update(_("Type the path of an export file."))
            return
        path = Path(typed).expanduser()
        if not path.is_file():
            problem.update(_("No such file: {path}").format(path=typed))
            return
        self.dismiss(path.resolve())
