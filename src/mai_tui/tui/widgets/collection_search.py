"""Ask one collection a question: the closest passages, best first; Enter on one reads it.

Only the collection's embedder runs (in a thread): no model is asked, so this works offline
and with no provider configured at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static

from mai_tui.core.knowledge.retrieval import Passage, scopes_for, search
from mai_tui.i18n import _, ngettext
from mai_tui.tui.screens.sources import PassageScreen
from mai_tui.tui.widgets.knowledge_lists import PassageList, failure

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext


class CollectionSearch(Vertical):
    def __init__(self, context: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context
        self.collection: str | None = None
        self.passages: list[Passage] = []

    def compose(self) -> ComposeResult:
        yield Input(id="kb-search")
        yield Static("", id="kb-search-status", markup=False)
        yield PassageList(id="kb-passages")

    def point_at(self, collection: str | None) -> None:
        """Search `collection` from now on (the results of another one are cleared)."""
        if collection == self.collection:
            return
        self.collection = collection
        self.passages = []
        self.query_one(PassageList).clear_options()
        self.query_one(Input).placeholder = (
            _("Ask {name} a question, Enter searches").format(name=collection) if collection else ""
        )
        self._status(_("The closest passages show here. Searching runs offline: no model is asked."))

    def _status(self, text: str) -> None:
        self.query_one("#kb-search-status", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        question = event.value.strip()
        if self.collection is None or not question:
            return
        self._status(_("Searching {name}…").format(name=self.collection))
        self.find(self.collection, question)

    @work(thread=True, exclusive=True, group="kb-search", exit_on_error=False)
    def find(self, name: str, question: str) -> None:
        try:
            passages = search(self.context, scopes_for(self.context, [name]), question)
        except Exception as error:  # e.g. the collection was deleted meanwhile: said, never a crash
            self.app.call_from_thread(self.found, name, [], error)
            return
        self.app.call_from_thread(self.found, name, passages, None)

    def found(self, name: str, passages: list[Passage], error: Exception | None) -> None:
        if not self.is_attached or name != self.collection:
            return  # the user moved on to another collection meanwhile
        if error is not None:
            self._status("")
            self.notify(failure(error), severity="error", timeout=10, markup=False)
            return
        self.passages = passages
        results = self.query_one(PassageList)
        results.show(passages)
        self._status(
            ngettext(
                "{n} passage · Enter on one shows all of it",
                "{n} passages, best first · Enter on one shows all of it",
                len(passages),
            ).format(n=len(passages))
            if passages
            else _("Nothing in {name} matches that question.").format(name=name)
        )
        if passages:
            results.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        index = event.option_index
        if 0 <= index < len(self.passages):
            self.app.push_screen(PassageScreen(self.context, index + 1, self.passages[index]))
