"""The prompt library: saved prompts listed with their commands, added, edited and deleted.

Every change is a quick write on the UI thread through `core.chat.prompts`, which checks the
command and who may change what; its errors are shown in the dialog, which stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static, TextArea

from mai_tui.core.chat import prompts
from mai_tui.core.chat.sanitize import inert
from mai_tui.core.errors import MaiError
from mai_tui.i18n import _
from mai_tui.tui.screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from sqlmodel import Session

    from mai_tui.core.context import AppContext
    from mai_tui.core.store.models import SavedPrompt, User

# Saves (command, title, content) and returns the command saved; raises a MaiError to refuse.
Save = Callable[[str, str, str], str]
# One change to the library, as the current user: (session, actor, command, title, content).
Change = Callable[["Session", "User", str, str, str], "SavedPrompt"]


class PromptEditor(ModalScreen[str | None]):
    """A new prompt, or one to change; returns the command saved, or None when cancelled."""

    DEFAULT_CSS = """
    PromptEditor {
        align: center middle;
    }
    PromptEditor #prompt-editor {
        height: 90%;
    }
    PromptEditor #prompt-editor-content {
        height: 1fr;
        min-height: 5;
    }
    PromptEditor Label {
        width: 100%;
        margin: 1 0 0 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Cancel"), id="prompt_editor.cancel"),
        Binding("ctrl+s", "save", _("Save"), id="prompt_editor.save"),
    ]

    def __init__(self, save: Save, prompt: SavedPrompt | None = None) -> None:
        super().__init__()
        self.save = save
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        prompt = self.prompt
        with Vertical(classes="dialog", id="prompt-editor"):
            yield Label(_("Command (you type it as /command; lowercase letters, digits, - and _)"))
            yield Input(prompt.command if prompt else "", placeholder=_("e.g. summarize"), id="prompt-editor-command")
            yield Label(_("Title (blank: the text's first line)"))
            yield Input(prompt.title if prompt else "", id="prompt-editor-title")
            yield Label(
                _("Text ({example} asks for a value, {example_default} may be left blank)").format(
                    example="{{name}}", example_default="{{name|default}}"
                )
            )
            yield TextArea(prompt.content if prompt else "", soft_wrap=True, id="prompt-editor-content")
            yield Static("", id="prompt-editor-problem", markup=False, classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(_("Save"), id="save", variant="primary")
                yield Button(_("Cancel"), id="cancel")
            yield Static(_("Tab: next field · Ctrl+S: save · Esc: cancel"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#prompt-editor-command", Input).focus()

    def on_input_submitted(self) -> None:
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        command = self.query_one("#prompt-editor-command", Input).value
        title = self.query_one("#prompt-editor-title", Input).value
        content = self.query_one("#prompt-editor-content", TextArea).text
        try:
            saved = self.save(command, title, content)
        except MaiError as error:
            self.query_one("#prompt-editor-problem", Static).update(str(error))
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptsScreen(Screen[None]):
    DEFAULT_CSS = """
    PromptsScreen #prompts-empty {
        width: 84;
        height: auto;
        margin: 2 4;
        padding: 1 2;
        border: round $primary;
        background: $surface;
    }
    PromptsScreen #prompts {
        padding: 0 1;
    }
    PromptsScreen #prompts-table {
        height: auto;
        max-height: 60%;
        border: round $primary 50%;
    }
    PromptsScreen #prompts-table:focus {
        border: round $primary;
    }
    PromptsScreen #prompts-preview {
        height: 1fr;
        padding: 0 1;
        border: round $panel;
        border-title-color: $foreground-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", _("Back"), id="prompts.back"),
        Binding("n", "new", _("New prompt"), id="prompts.new"),
        Binding("e", "edit", _("Edit"), id="prompts.edit"),
        Binding("delete,d", "delete", _("Delete"), id="prompts.delete"),
    ]

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.prompts: list[SavedPrompt] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Static("", id="prompts-empty", markup=False)
        with Vertical(id="prompts"):
            yield DataTable(cursor_type="row", zebra_stripes=True, id="prompts-table")
            yield Static("", id="prompts-preview", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _("Prompts")
        table = self.query_one(DataTable)
        table.add_column(_("Command"), key="command")
        table.add_column(_("Title"), key="title")
        table.add_column(_("Asks for"), key="asks")
        self.load()

    # --- reading ------------------------------------------------------------------------
    def load(self, select: str | None = None) -> None:
        """Read the library again; the cursor stays on `select` (or the prompt it was on)."""
        current = self.selected()
        select = select or (current.command if current else None)
        try:
            with self.context.session(write=False) as session:
                self.prompts = prompts.all_prompts(session)
        except MaiError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        table = self.query_one(DataTable)
        table.clear()
        for prompt in self.prompts:
            asks = ", ".join(prompts.variables(prompt.content)) or "—"
            table.add_row(f"/{prompt.command}", inert(prompt.title), inert(asks), key=prompt.command)
        commands = [prompt.command for prompt in self.prompts]
        if select in commands:
            table.move_cursor(row=commands.index(select))
        empty = not self.prompts
        hint = self.query_one("#prompts-empty", Static)
        hint.update(
            _(
                "No saved prompts yet.\n\n"
                "A saved prompt is text you send often: type /command at the start of the chat prompt "
                "to use it. In its text, {example} asks for a value before sending.\n\n"
                "Press {new} to add one."
            ).format(example="{{name}}", new=self.key_for("prompts.new"))
            if empty
            else ""
        )
        hint.display = empty
        self.query_one("#prompts").display = not empty
        if not empty:
            table.focus()
        self.show_preview()
        self.refresh_bindings()

    def selected(self) -> SavedPrompt | None:
        table = self.query_one(DataTable)
        if not self.prompts or not 0 <= table.cursor_row < len(self.prompts):
            return None
        return self.prompts[table.cursor_row]

    def show_preview(self) -> None:
        preview = self.query_one("#prompts-preview", Static)
        prompt = self.selected()
        preview.update(inert(prompt.content) if prompt else "")
        preview.border_title = f"/{prompt.command}" if prompt else ""

    def on_data_table_row_highlighted(self) -> None:
        self.show_preview()

    def on_data_table_row_selected(self) -> None:
        self.action_edit()

    def key_for(self, binding_id: str) -> str:
        """The key bound to `binding_id` (it follows the user's keymap), for a sentence."""
        for active in self.active_bindings.values():
            if active.binding.id == binding_id:
                shown = self.app.get_key_display(active.binding)
                return shown[:1].upper() + shown[1:]
        return "N"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "delete"):
            return self.selected() is not None
        return True

    # --- changing -----------------------------------------------------------------------
    def _saving(self, change: Change) -> Save:
        def save(command: str, title: str, content: str) -> str:
            with self.context.session() as session:
                return change(session, self.context.current_user(session), command, title, content).command

        return save

    def action_new(self) -> None:
        def add(session: Session, actor: User, command: str, title: str, content: str) -> SavedPrompt:
            return prompts.add(session, actor, command, content, title=title)

        self.app.push_screen(PromptEditor(self._saving(add)), self._saved)

    def action_edit(self) -> None:
        prompt = self.selected()
        if prompt is None:
            return
        old = prompt.command

        def change(session: Session, actor: User, command: str, title: str, content: str) -> SavedPrompt:
            return prompts.update(session, actor, old, new_command=command, title=title, content=content)

        self.app.push_screen(PromptEditor(self._saving(change), prompt), self._saved)

    def _saved(self, command: str | None) -> None:
        if command is not None:
            self.load(select=command)
            self.notify(_("Saved /{command}.").format(command=command), markup=False)

    def action_delete(self) -> None:
        prompt = self.selected()
        if prompt is None:
            return
        command = prompt.command

        def remove(yes: bool | None) -> None:
            if not yes:
                return
            try:
                with self.context.session() as session:
                    prompts.remove(session, self.context.current_user(session), command)
            except MaiError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            self.load()
            self.notify(_("Deleted /{command}.").format(command=command), markup=False)

        question = _("Delete the saved prompt /{command} ({title})?").format(command=command, title=prompt.title)
        self.app.push_screen(ConfirmDialog(question, _("Delete")), remove)

    def action_back(self) -> None:
        self.dismiss(None)
