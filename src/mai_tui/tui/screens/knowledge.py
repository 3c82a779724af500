"""The knowledge screen: collections and their documents, adding files with progress, and
searching a collection (offline: no model is asked, only the embedder runs).

Reading the lists is a quick database read on the UI thread; everything that touches the
chunk store or an embedder (create, add, re-index, delete, search) runs in a thread worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from mai_tui.core.chat.sanitize import inert
from mai_tui.core.errors import MaiError
from mai_tui.core.knowledge import manage
from mai_tui.core.knowledge.documents import Problem
from mai_tui.core.knowledge.ingest import Ingest, Outcome
from mai_tui.core.store.models import DocumentStatus
from mai_tui.i18n import _, ngettext
from mai_tui.tui.screens.dialogs import ConfirmDialog
from mai_tui.tui.screens.knowledge_dialogs import AddFilesDialog, AddRequest, NewCollectionDialog
from mai_tui.tui.widgets.add_progress import AddProgress, Run, summary_line
from mai_tui.tui.widgets.collection_search import CollectionSearch
from mai_tui.tui.widgets.knowledge_lists import CollectionTable, DocumentTable, failure

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.core.store.models import KnowledgeCollection, KnowledgeDocument


class KnowledgeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_add", _("Cancel adding"), id="knowledge.cancel"),
        Binding("escape", "back", _("Back"), id="knowledge.back"),
        Binding("n", "new_collection", _("New collection"), id="knowledge.new"),
        Binding("a", "add_files", _("Add files"), id="knowledge.add"),
        Binding("delete,d", "delete_document", _("Remove document"), id="knowledge.remove_document"),
        Binding("delete,d", "delete_collection", _("Delete collection"), id="knowledge.delete_collection"),
        Binding("r", "reindex", _("Re-index"), id="knowledge.reindex"),
        Binding("slash", "search_box", _("Search"), id="knowledge.search"),
    ]

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.selected: str | None = None
        self.collection: KnowledgeCollection | None = None
        self.add_title = ""  # the title of the summary when the add is over
        self.last_folder = Path.cwd()  # where the folders to add from start

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Static("", id="kb-empty", markup=False)
        with Horizontal(id="kb"):
            with Vertical(id="kb-collections-pane"):
                yield CollectionTable(id="kb-collections")
            with Vertical(id="kb-documents-pane"):
                yield Static("", id="kb-note", markup=False)
                yield DocumentTable(id="kb-documents")
                yield Static("", id="kb-detail", markup=False)
                yield AddProgress(id="kb-progress")
                yield CollectionSearch(self.context, id="kb-search-box")
        yield Footer()

    @property
    def documents(self) -> list[KnowledgeDocument]:
        return self.query_one(DocumentTable).documents

    def on_mount(self) -> None:
        self.sub_title = _("Knowledge")
        self.query_one("#kb-collections-pane").border_title = _("Collections")
        self.call_after_refresh(self.load)  # after the tables have their columns

    # --- reading ------------------------------------------------------------------------
    def load(self, select: str | None = None) -> None:
        """Read the collections (and the selected one's documents) again."""
        try:
            infos = manage.overview(self.context)
        except MaiError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        names = [info.collection.name for info in infos]
        if select in names:
            self.selected = select
        elif self.selected not in names:
            self.selected = names[0] if names else None
        table = self.query_one(CollectionTable)
        table.show(infos, self.selected)
        self._show_empty(not names)
        self.show_documents()
        if names and self.focused is None:  # on opening, or the first collection just created
            table.focus()

    def _show_empty(self, empty: bool) -> None:
        hint = self.query_one("#kb-empty", Static)
        hint.update(
            _(
                "No collections yet.\n\n"
                "A collection is a set of documents you search together and ask about in the chat as #name.\n"
                "Press {new} to create one, then {add} to add files or whole folders "
                "(PDF, PowerPoint, Word, text and Markdown).\n\n"
                "Reading, embedding and searching all run offline on this computer "
                "with the bundled embedders: nothing is sent anywhere."
            ).format(new=self.key_for("knowledge.new"), add=self.key_for("knowledge.add"))
            if empty
            else ""
        )
        hint.display = empty
        self.query_one("#kb").display = not empty
        self.refresh_bindings()

    def show_documents(self) -> None:
        table, note = self.query_one(DocumentTable), self.query_one("#kb-note", Static)
        same = self.collection is not None and self.collection.name == self.selected
        self.collection = None
        listing = None
        if self.selected is not None:
            try:
                listing = manage.listing(self.context, self.selected)
            except MaiError as error:  # e.g. deleted by another instance meanwhile
                self.notify(str(error), severity="warning", markup=False)
        table.show(listing.documents if listing else [], keep_cursor=same)
        mismatch = None
        if listing is not None:
            self.collection = listing.collection
            mismatch = manage.embedder_mismatch(self.context, listing.collection)
            pane = self.query_one("#kb-documents-pane")
            pane.border_title = _("Documents in {name}").format(name=self.selected)
            pane.border_subtitle = ngettext("{n} document", "{n} documents", len(self.documents)).format(
                n=len(self.documents)
            )
        if mismatch:
            mismatch += " " + _("(here: {key} re-indexes it)").format(key=self.key_for("knowledge.reindex"))
        note.update(mismatch or "")
        note.display = bool(mismatch)
        self.query_one(CollectionSearch).point_at(self.collection.name if self.collection else None)
        self.show_detail(table.highlighted())
        self.refresh_bindings()

    def show_detail(self, document: KnowledgeDocument | None) -> None:
        """Under the documents: why the highlighted one failed, or what its reader warned about."""
        add = self.key_for("knowledge.add")
        if document is None:
            text = _("No documents yet: {add} adds files or folders.").format(add=add) if self.collection else ""
        elif document.status == DocumentStatus.FAILED.value:
            text = inert(document.error or document.problem or "")
            if document.problem == Problem.ENCRYPTED.value:
                text += "\n" + _("Here: {add}, this file, and its password in the field under the folders.").format(
                    add=add
                )
        else:
            text = inert(document.warnings or "")
        detail = self.query_one("#kb-detail", Static)
        detail.update(text)
        detail.display = bool(text)

    def key_for(self, binding_id: str) -> str:
        """The key bound to `binding_id` (it follows the user's keymap), for a sentence."""
        bindings = self._bindings.copy()
        bindings.apply_keymap(self.app._keymap)
        for keyed in bindings.key_to_bindings.values():
            for binding in keyed:
                if binding.id == binding_id:
                    shown = self.app.get_key_display(binding)
                    return shown[:1].upper() + shown[1:]
        return ""

    # --- the user moves around ----------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.data_table, CollectionTable):
            name = event.row_key.value
            if name is not None and name != self.selected:
                self.selected = name
                self.show_documents()
        elif isinstance(event.data_table, DocumentTable):
            self.show_detail(event.data_table.document(event.row_key.value))

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # Delete names what it deletes: a collection or a document

    # --- what the user does ------------------------------------------------------------
    def adding(self) -> bool:
        return self.query_one(AddProgress).running

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hidden when it makes no sense here, greyed out while files are being added."""
        if action == "cancel_add":
            return self.adding()
        if action == "back":
            return not self.adding()
        on_documents = isinstance(self.focused, DocumentTable)
        if action == "delete_document":
            return (not self.adding()) if on_documents and self.documents else False
        if action == "delete_collection" and on_documents:
            return False
        if action in ("add_files", "reindex", "delete_collection", "search_box"):
            if self.selected is None:
                return False  # no collection yet: the hint says what to do
            return None if self.adding() and action != "search_box" else True
        if action == "new_collection":
            return None if self.adding() else True
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_cancel_add(self) -> None:
        self.query_one(AddProgress).stop()

    def action_search_box(self) -> None:
        self.query_one("#kb-search", Input).focus()

    def action_new_collection(self) -> None:
        def create(answer: tuple[str, str] | None) -> None:
            if answer is None:
                return
            name, embedder = answer
            self.change(
                lambda: manage.create_collection(self.context, name, embedder=embedder),
                _("Collection {name} created: {add} adds files to it.").format(
                    name=name, add=self.key_for("knowledge.add")
                ),
                select=name,
            )

        self.app.push_screen(NewCollectionDialog(self.context.settings.knowledge.embedder), create)

    def action_delete_document(self) -> None:
        name, document = self.selected, self.query_one(DocumentTable).highlighted()
        if name is None or document is None:
            return
        file = document.path  # the path, not the name: two documents may share a file name
        shown = inert(document.name)

        def remove(yes: bool | None) -> None:
            if yes:
                self.change(
                    lambda: manage.remove_documents(self.context, name, file),
                    _("{file} removed from {name}.").format(file=shown, name=name),
                )

        question = _("Remove {file} from {name}? Its passages are deleted; the file itself stays.")
        self.app.push_screen(ConfirmDialog(question.format(file=shown, name=name), _("Remove")), remove)

    def action_delete_collection(self) -> None:
        name = self.selected
        if name is None:
            return

        def remove(yes: bool | None) -> None:
            if yes:
                self.change(
                    lambda: manage.remove_collection(self.context, name),
                    _("Collection {name} deleted.").format(name=name),
                )

        question = ngettext(
            "Delete the collection {name} and its {n} document? The files themselves stay.",
            "Delete the collection {name} and its {n} documents? The files themselves stay.",
            len(self.documents),
        )
        self.app.push_screen(ConfirmDialog(question.format(name=name, n=len(self.documents)), _("Delete")), remove)

    def action_add_files(self) -> None:
        name = self.selected
        if name is None or self.adding():
            return

        def add(request: AddRequest | None) -> None:
            if request is None:
                return
            path, password = request.path, request.password
            self.last_folder = path if path.is_dir() else path.parent
            self.start_add(
                _("Added to {name}").format(name=name),
                lambda report, cancel: Ingest(
                    self.context, name, password=password, on_progress=report, cancel=cancel
                ).run([path], recursive=True),
                _("Adding {path}…").format(path=inert(str(path))),
            )

        self.app.push_screen(AddFilesDialog(name, self.last_folder), add)

    def action_reindex(self) -> None:
        name, collection = self.selected, self.collection
        if name is None or collection is None or self.adding():
            return
        configured = self.context.settings.knowledge.embedder
        switch = configured if manage.embedder_mismatch(self.context, collection) else None
        question = (
            _("Re-index {name} with {embedder}? Its passages are dropped and every document is read again.")
            if switch
            else _("Read every document of {name} again?")
        ).format(name=name, embedder=switch)

        def reindex(yes: bool | None) -> None:
            if yes:
                self.start_add(
                    _("Re-indexed {name}").format(name=name),
                    lambda report, cancel: manage.reindex(
                        self.context, name, embedder=switch, on_progress=report, cancel=cancel
                    ),
                    _("Re-indexing {name}…").format(name=name),
                )

        self.app.push_screen(ConfirmDialog(question, _("Re-index")), reindex)

    # --- the work -----------------------------------------------------------------------
    @work(thread=True, group="kb-change", exit_on_error=False)
    def change(self, job: Callable[[], object], done: str, select: str | None = None) -> None:
        """A create or a removal (database and chunk store), then the lists read again."""
        try:
            job()
        except Exception as error:
            self.app.call_from_thread(self.failed, error)
            return
        self.app.call_from_thread(self.changed, done, select)

    def changed(self, done: str, select: str | None) -> None:
        if self.is_attached:
            self.load(select)
            self.notify(done, markup=False)

    def failed(self, error: Exception) -> None:
        """A refusal or a failure from the core: said in a notification, never a crash."""
        self.notify(failure(error), severity="error", timeout=10, markup=False)

    def start_add(self, title: str, run: Run, what: str) -> None:
        self.add_title = title
        self.query_one(AddProgress).begin(run, what)
        self.refresh_bindings()

    def on_add_progress_progressed(self, message: AddProgress.Progressed) -> None:
        progress = message.progress
        if progress.result is not None or (progress.pages and not progress.chunks_done):
            self.load()  # the file's row: indexing… then indexed or failed

    def on_add_progress_finished(self, message: AddProgress.Finished) -> None:
        self.refresh_bindings()
        self.load()
        summary = message.summary
        if summary is None:
            self.failed(message.error or RuntimeError())
            return
        line = summary_line(summary)
        if summary.failed:
            line += "\n" + _("The documents table says why each failed one could not be read.")
        self.notify(
            line,
            title=self.add_title,
            severity="warning" if summary.failed or summary.count(Outcome.CANCELLED) else "information",
            timeout=10,
            markup=False,
        )
