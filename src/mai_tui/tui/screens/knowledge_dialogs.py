"""The knowledge screen's dialogs: a new collection, files to add, a yes/no question."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, Select, Static, Tree

from mai_tui.core.errors import InvalidInput
from mai_tui.core.knowledge.collections import check_name
from mai_tui.core.knowledge.embedders import BUNDLED
from mai_tui.i18n import _
from mai_tui.tui.widgets.paths import PathInput


def embedder_choices(configured: str) -> list[tuple[str, str]]:
    """(label, name) of the embedders a new collection may use: the bundled ones, and the
    configured one when it is a provider's."""
    labels = {
        "minilm": _("minilm — English, fast, offline"),
        "e5-multilingual": _("e5-multilingual — about 100 languages, offline, slower"),
    }
    choices = [(labels.get(name, name), name) for name in BUNDLED]
    if configured not in BUNDLED:
        choices.append((_("{name} — from the settings, calls the provider").format(name=configured), configured))
    return choices


class NewCollectionDialog(ModalScreen[tuple[str, str] | None]):
    """Returns (name, embedder) for a new collection, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"), id="new_collection.cancel")]

    def __init__(self, configured: str) -> None:
        super().__init__()
        self.embedders = embedder_choices(configured)  # (label, name)
        self.default = configured

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="new-collection"):
            yield Label(_("Name (letters, digits, '.', '-', '_'; you ask it as #name in the chat)"))
            yield Input(placeholder=_("e.g. handbooks"), id="collection-name")
            yield Label(_("Embedder (turns text into vectors; cannot change without re-indexing)"))
            yield Select(self.embedders, value=self.default, allow_blank=False, id="collection-embedder")
            yield Static("", id="new-collection-problem", markup=False, classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(_("Create"), id="create", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    def on_input_submitted(self) -> None:
        self._create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self._create()
        else:
            self.dismiss(None)

    def _create(self) -> None:
        try:
            name = check_name(self.query_one("#collection-name", Input).value)
        except InvalidInput as error:
            self.query_one("#new-collection-problem", Static).update(str(error))
            return
        embedder = self.query_one("#collection-embedder", Select).value
        self.dismiss((name, str(embedder) if isinstance(embedder, str) else self.default))

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickTree(DirectoryTree):
    """Files and folders to pick from (hidden ones left out); A adds the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("a", "pick", _("Add this"), id="add_files.pick")]

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if not path.name.startswith(".")]

    def action_pick(self) -> None:
        node = self.cursor_node
        if node is not None and node.data is not None:
            self.post_message(self.FileSelected(node, node.data.path))  # a folder too: it is added whole


@dataclass(frozen=True)
class AddRequest:
    path: Path  # a file, or a folder: added with everything in it
    password: str | None = None  # for encrypted PDFs and Office files


class AddFilesDialog(ModalScreen[AddRequest | None]):
    """Returns what to add, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"), id="add_files.cancel")]

    def __init__(self, collection: str, start: Path) -> None:
        super().__init__()
        self.collection = collection
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="add-files"):
            yield Label(_("Add a file or a folder to {name}").format(name=self.collection), markup=False)
            yield PathInput(placeholder=_("a path, e.g. ~/Documents/report.pdf or ~/Documents/"), id="add-path")
            yield Static(
                _("Tab completes · Enter adds · ↓ picks from the folders below (A adds the highlighted one)"),
                classes="hint",
            )
            yield Static("", id="add-problem", markup=False, classes="problem")
            yield PickTree(self.start, id="add-tree")
            with Horizontal(id="add-password-row"):
                yield Label(_("Password (only for encrypted files)"))
                yield Input(password=True, compact=True, placeholder=_("none"), id="add-password")

    def on_input_submitted(self) -> None:
        self._add(self.query_one("#add-path", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        """The folders below follow the path being typed (not one picked from them)."""
        if event.input.id != "add-path" or not event.input.has_focus or not event.value.strip():
            return
        typed = Path(event.value.strip()).expanduser()
        folder = typed if event.value.endswith("/") else typed.parent
        tree = self.query_one(PickTree)
        if folder.is_absolute() and folder.is_dir() and folder != Path(tree.path):
            tree.path = folder

    def on_key(self, event: object) -> None:
        if getattr(event, "key", "") == "down" and self.focused is self.query_one("#add-path"):
            self.query_one("#add-tree").focus()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[object]) -> None:
        entry = event.node.data
        path = getattr(entry, "path", None)
        if isinstance(path, Path) and event.node.tree.has_focus:
            self.query_one("#add-path", Input).value = str(path) + ("/" if path.is_dir() else "")

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self._add(str(event.path))

    def _add(self, typed: str) -> None:
        typed = typed.strip()
        if not typed:
            self.query_one("#add-problem", Static).update(_("Type a path, or pick one below."))
            return
        path = Path(typed).expanduser()
        if not path.exists():
            self.query_one("#add-problem", Static).update(_("No such file or folder: {path}").format(path=typed))
            return
        password = self.query_one("#add-password", Input).value
        self.dismiss(AddRequest(path.resolve(), password or None))

    def action_cancel(self) -> None:
        self.dismiss(None)
