"""The sources under an answer from documents: `[n] file, page p — heading`, one a line.

Sources the answer cites stand out; the others are dimmed. A passage whose document's text
looked garbled when it was read (a poor OCR layer) carries a mark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from mai_tui.core.chat.sanitize import inert
from mai_tui.i18n import _

if TYPE_CHECKING:
    from mai_tui.core.knowledge.retrieval import Passage


def source_line(number: int, passage: Passage) -> str:
    """`[2] deck.pptx, slide 3 — Budget` (plus a mark for low-quality text)."""
    line = f"[{number}] {passage.location()}"
    if passage.heading:
        line += f" — {passage.heading}"
    if passage.low_quality:
        line += "  ⚠ " + _("low-quality text")
    return inert(" ".join(line.split()))  # one line: headings may hold newlines or control characters


class SourcesList(Vertical):
    """The numbered sources of one answer."""

    def __init__(self, passages: list[Passage], answer: str, hint: str = "") -> None:
        super().__init__(classes="sources")
        self.passages = passages
        self.hint = hint
        self.cited = self._cited(answer)

    def _cited(self, answer: str) -> set[int]:
        from mai_tui.core.knowledge.rag import cited

        return set(cited(answer, len(self.passages)))

    def compose(self) -> ComposeResult:
        title = _("Sources")
        if self.hint:
            title += "  " + _("({key} to read them)").format(key=self.hint)
        yield Static(title, classes="sources-title", markup=False)
        for number, passage in enumerate(self.passages, 1):
            yield Static(source_line(number, passage), classes=self._line_classes(number, passage), markup=False)

    def _line_classes(self, number: int, passage: Passage) -> str:
        classes = "source " + ("-cited" if number in self.cited else "-uncited")
        return classes + (" -low-quality" if passage.low_quality else "")

    def update_cited(self, answer: str) -> None:
        """Mark what the finished answer cites."""
        self.cited = self._cited(answer)
        for number, line in enumerate(self.query(".source").results(Static), 1):
            line.set_class(number in self.cited, "-cited")
            line.set_class(number not in self.cited, "-uncited")
