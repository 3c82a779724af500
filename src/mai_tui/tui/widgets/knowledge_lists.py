"""The knowledge screen's lists: collections, one collection's documents, search results."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

from mai_tui.core.chat.sanitize import inert
from mai_tui.core.errors import MaiError
from mai_tui.core.knowledge.documents import Problem
from mai_tui.core.store.models import DocumentStatus
from mai_tui.i18n import _
from mai_tui.tui.widgets.sources import source_line

if TYPE_CHECKING:
    from mai_tui.core.knowledge.collections import CollectionInfo
    from mai_tui.core.knowledge.retrieval import Passage
    from mai_tui.core.store.models import KnowledgeDocument

log = logging.getLogger(__name__)

EXCERPT = 150  # characters of a passage shown in the results
NAME_WIDTH = 28  # a longer file name is cut in the middle, so the status stays in view at 120 columns


def count(value: int) -> Text:
    return Text(f"{value:,}" if value else "—", justify="right")


def shorten(name: str, width: int) -> str:
    """`a-very-long-na…me-end.pdf`: the start and the end (with the extension) of a long name."""
    if len(name) <= width:
        return name
    tail = width // 3
    return name[: width - tail - 1] + "…" + name[-tail:]


def short_reasons() -> dict[str, str]:
    """Why a document failed, in a few words for the table (the full sentence is under it)."""
    return {
        Problem.ENCRYPTED.value: _("password needed"),
        Problem.NO_TEXT.value: _("needs OCR"),
        Problem.CORRUPT.value: _("damaged"),
        Problem.TOO_LARGE.value: _("too large"),
        Problem.ARCHIVE_BOMB.value: _("suspicious file"),
        Problem.UNSUPPORTED.value: _("not supported"),
        Problem.EMPTY.value: _("empty"),
        Problem.UNREADABLE.value: _("unreadable"),
        Problem.EMBEDDING.value: _("embedding error"),
    }


def passage_score(passage: Passage) -> str:
    """How close the passage is to the question: cosine similarity where known, else its rank score."""
    if passage.similarity is not None:
        return _("similarity {score:.2f}").format(score=passage.similarity)
    return _("score {score:.3f}").format(score=passage.score)


class CollectionTable(DataTable[Text]):
    """Every collection: name, embedder, documents, chunks; the row key is the name."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_columns(_("Name"), _("Embedder"), Text(_("Docs"), justify="right"), Text(_("Chunks"), justify="right"))

    def show(self, infos: list[CollectionInfo], selected: str | None) -> None:
        self.clear()
        for info in infos:
            name = info.collection.name
            self.add_row(
                Text(name), Text(info.collection.embedder), count(info.documents), count(info.chunks), key=name
            )
        names = [info.collection.name for info in infos]
        if selected in names:
            self.move_cursor(row=names.index(selected), scroll=True)


class DocumentTable(DataTable[Text]):
    """One collection's documents: name, kind, pages, chunks, status; the row key is the id."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.documents: list[KnowledgeDocument] = []

    def on_mount(self) -> None:
        pages, chunks = Text(_("Pages"), justify="right"), Text(_("Chunks"), justify="right")
        self.add_columns(_("Name"), _("Kind"), pages, chunks, _("Status"))

    def show(self, documents: list[KnowledgeDocument], *, keep_cursor: bool) -> None:
        row = self.cursor_row if keep_cursor else 0
        self.clear()
        self.documents = documents
        for document in documents:
            self.add_row(
                Text(shorten(inert(document.name), NAME_WIDTH)),
                Text(document.kind or "—"),
                count(document.pages),
                count(document.chunks),
                self.status(document),
                key=str(document.id),
            )
        if documents:
            self.move_cursor(row=min(row, len(documents) - 1), scroll=True)

    def status(self, document: KnowledgeDocument) -> Text:
        variables = self.app.get_css_variables()
        error, warning = variables.get("error", "red"), variables.get("warning", "yellow")
        if document.status == DocumentStatus.INDEXED.value and document.low_quality:
            return Text(_("indexed · low quality"), style=warning)  # a garbled OCR layer: answers may suffer
        if document.status == DocumentStatus.INDEXED.value:
            return Text(_("indexed"))
        if document.status == DocumentStatus.FAILED.value:
            reason = short_reasons().get(document.problem or "") or inert(" ".join((document.error or "").split()))
            return Text(_("failed: {reason}").format(reason=reason) if reason else _("failed"), style=error)
        return Text(_("indexing…"), style=warning)

    def document(self, key: str | None) -> KnowledgeDocument | None:
        return next((d for d in self.documents if str(d.id) == key), None)

    def highlighted(self) -> KnowledgeDocument | None:
        if not self.documents:
            return None
        return self.document(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)


class PassageList(OptionList):
    """Search results, best first: where each passage is, how close, and the start of its text."""

    def show(self, passages: list[Passage]) -> None:
        self.clear_options()
        self.add_options(Option(self.line(number, p)) for number, p in enumerate(passages, 1))
        if passages:
            self.highlighted = 0

    @staticmethod
    def line(number: int, passage: Passage) -> Group:
        """`[1] deck.pptx, slide 3 — heading · similarity 0.61`, then the start of its text."""
        head = Text(source_line(number, passage), style="bold")
        head.append(" · " + passage_score(passage), style="dim")
        excerpt = inert(" ".join(passage.text.split()))
        if len(excerpt) > EXCERPT:
            excerpt = excerpt[: EXCERPT - 1].rstrip() + "…"
        return Group(head, Text(excerpt), Text(""))


def failure(error: Exception) -> str:
    """What to tell the user about an error from the core: its sentence, or one line for a bug
    (which is logged in full)."""
    if isinstance(error, MaiError):
        return str(error)
    log.error("knowledge screen", exc_info=error)
    return f"{type(error).__name__}: {error}".splitlines()[0]
