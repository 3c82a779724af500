"""Documents in the chat: `#collection` / `#file` in a prompt, and the sources of an answer.

The names offered after `#` are read in a thread when the prompt box gets the focus (they
change rarely). A prompt naming documents is searched in the turn's worker before it goes
out; the answer keeps its passages, which the sources dialog shows in their documents.
Nothing heavy is imported here at module level (the first frame must stay light).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from mai_tui.i18n import _
from mai_tui.tui.widgets.prompt import PromptBox

if TYPE_CHECKING:
    from collections.abc import Callable

    from mai_tui.core.chat.turns import Turn
    from mai_tui.core.context import AppContext
    from mai_tui.core.knowledge.rag import Retrieved
    from mai_tui.tui.screens.chat import ChatScreen

log = logging.getLogger(__name__)

NAMES = 5000  # names kept for completion; more than anyone types `#` for
_WORD = re.compile(r"(?<![\w#])#([\w][\w.\-]*)")


class ChatKnowledge(App[None]):
    """The app's document references and sources; `MaiApp` provides `chat` and `context`."""

    context: AppContext | None
    conversation_id: int | None

    if TYPE_CHECKING:  # the app that includes this defines it

        @property
        def chat(self) -> ChatScreen: ...

    def on_prompt_box_names_wanted(self) -> None:
        self.refresh_reference_names()

    @work(thread=True, exclusive=True, group="reference-names", exit_on_error=False)
    def refresh_reference_names(self) -> None:
        """Read the collection and file names for `#` completion (off the UI thread)."""
        from mai_tui.core.knowledge.rag import completions

        if self.context is None:
            return
        try:
            with self.context.session(write=False) as session:
                names = completions(session, "", limit=NAMES)
        except Exception:  # completion is a nicety: the prompt still works without it
            log.exception("reading the names for # completion failed")
            return
        self.call_from_thread(self.chat.query_one(PromptBox).set_reference_names, names)
        if names:  # there are documents to ask: load the chunk store's library now, not on the first question
            import lancedb  # noqa: F401

    def searching(self, text: str) -> None:
        """Say that the documents a prompt names are being searched (embedding takes a moment)."""
        known = {name.lower(): name for name, _kind in self.chat.query_one(PromptBox).reference_names}
        named = [known[word.lower()] for word in _WORD.findall(text) if word.lower() in known]
        if named:
            self.chat.set_notice(_("Searching {names}…").format(names=_references(named)))

    def with_sources(
        self,
        context: AppContext,
        text: str,
        prepare: Callable[[Retrieved | None], Turn],
        *,
        conversation_id: int | None = None,
        preset_id: int | None = None,
    ) -> Turn:
        """Search what `text` names with `#` (else the conversation's own collection, which a
        new conversation gets from `preset_id`), then prepare the turn with the passages found.

        Runs in the turn's worker thread. A search that fails raises a MaiError (the prompt goes
        back in the box); a search that finds nothing still asks, with a warning.
        """
        from mai_tui.core.chat.presets import standing_collection
        from mai_tui.core.errors import MaiError
        from mai_tui.core.knowledge.rag import retrieve_for

        try:
            collection = standing_collection(context, conversation_id=conversation_id, preset_id=preset_id)
            if collection is not None and not _WORD.search(text):  # the preset's collection: searched for every prompt
                notice = _("Searching {names}…").format(names=_references([collection]))
                self.call_from_thread(self.chat.set_notice, notice)
            retrieved = retrieve_for(context, text, collection=collection)
        except Exception as error:
            self.call_from_thread(self.chat.set_notice, "")
            if isinstance(error, MaiError):
                raise
            log.exception("searching the documents failed")
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            raise MaiError(_("Searching your documents failed: {reason}").format(reason=reason)) from error
        turn = prepare(retrieved)
        if retrieved is not None and not retrieved.passages:
            empty = _("No passages found in {names}: the model was told its sources are empty.").format(
                names=_references(retrieved.references.names())
            )
            turn.warning = f"{turn.warning}\n{empty}" if turn.warning else empty
        return turn

    def open_sources(self) -> None:
        """The sources dialog for the newest answer with sources in the branch shown."""
        from mai_tui.core.chat import tree as trees
        from mai_tui.core.knowledge.rag import cited, load_citations
        from mai_tui.tui.screens.sources import SourcesScreen

        if self.context is None:
            return
        answer = None
        if self.conversation_id is not None:
            with self.context.session(write=False) as session:
                path = trees.load(session, self.conversation_id).path()
            answer = next((m for m in reversed(path) if m.role == "assistant" and m.citations), None)
        passages = load_citations(answer.citations) if answer is not None else []
        if answer is None or not passages:
            self.notify(_("No answer here has sources: ask with #collection or #file."), severity="warning")
            return
        self.push_screen(SourcesScreen(self.context, passages, cited(answer.content, len(passages))))


def _references(names: list[str]) -> str:
    return ", ".join(f"#{name}" for name in names)
