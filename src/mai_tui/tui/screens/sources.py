"""The sources of an answer, and one passage read in its document (the chunks around it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mai_tui.core.chat.sanitize import inert
from mai_tui.i18n import _
from mai_tui.tui.widgets.sources import source_line

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.core.knowledge.passages import InContext, Piece
    from mai_tui.core.knowledge.retrieval import Passage


class SourcesScreen(ModalScreen[None]):
    """The numbered sources of one answer; Enter reads the highlighted one in its document."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", _("Close"), id="sources.close")]

    def __init__(self, context: AppContext, passages: list[Passage], cited: list[int]) -> None:
        super().__init__()
        self.context = context
        self.passages = passages
        self.cited = cited

    def compose(self) -> ComposeResult:
        with Vertical(id="sources-dialog"):
            yield Static(_("Sources of the answer — Enter reads one in its document, Esc closes"), id="sources-help")
            yield OptionList(*self._options(), id="sources-choices")

    def _options(self) -> list[Option]:
        options = []
        for number, passage in enumerate(self.passages, 1):
            mark = "●" if number in self.cited else "○"
            line = Text.assemble(
                (f"{mark} ", "bold" if number in self.cited else "dim"),
                (source_line(number, passage), "" if number in self.cited else "dim"),
                "\n  ",
                (_preview(passage), "dim italic"),
            )
            options.append(Option(line, id=str(number)))
        return options

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        choices.highlighted = (self.cited[0] - 1) if self.cited else 0
        choices.focus()
        self.warm_up()

    @work(thread=True, exit_on_error=False)
    def warm_up(self) -> None:
        """Load the chunk store's library while the user picks a source (it takes a few seconds)."""
        import lancedb  # noqa: F401

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        number = int(event.option.id or 1)
        self.app.push_screen(PassageScreen(self.context, number, self.passages[number - 1]))

    def action_close(self) -> None:
        self.dismiss(None)


def _preview(passage: Passage, width: int = 96) -> str:
    """The passage's first words on one line (after its heading, which the line above names)."""
    text = passage.text.strip()
    if passage.heading and text.startswith(passage.heading.strip()):
        text = text[len(passage.heading.strip()) :]
    line = inert(" ".join(text.split()))
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


class PassageScreen(ModalScreen[None]):
    """One passage, highlighted, between the text that comes before and after it in its document."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", _("Back"), id="passage.close")]

    def __init__(self, context: AppContext, number: int, passage: Passage) -> None:
        super().__init__()
        self.context = context
        self.number = number
        self.passage = passage

    def compose(self) -> ComposeResult:
        passage = self.passage
        with Vertical(id="passage-dialog"):
            yield Static(f"[{self.number}] {inert(passage.location())}", id="passage-where", markup=False)
            details = [_("collection {name}").format(name=passage.collection)]
            if passage.heading:
                details.insert(0, passage.heading)
            if passage.low_quality:
                details.append("⚠ " + _("low-quality text: the document's text layer looked garbled"))
            yield Static(inert(" · ".join(details)), id="passage-details", markup=False)
            with VerticalScroll(id="passage-text"):
                yield Static(inert(passage.text), id="passage-cited", markup=False)
            yield Static(_("Loading the text around it…"), id="passage-note", markup=False)

    def on_mount(self) -> None:
        self.query_one("#passage-text").focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from mai_tui.core.knowledge.passages import in_context

        try:
            shown = in_context(self.context, self.passage)
        except Exception as error:  # the store may be gone or busy: the passage itself still shows
            self.app.call_from_thread(self._note, _("The document cannot be read: {reason}").format(reason=error))
            return
        self.app.call_from_thread(self._show, shown)

    def _note(self, text: str) -> None:
        if not self.is_attached:  # closed while the document was being read
            return
        self.query_one("#passage-note", Static).update(inert(text.splitlines()[0] if text else ""))

    def _show(self, shown: InContext) -> None:
        if not self.is_attached:
            return
        text = self.query_one("#passage-text", VerticalScroll)
        cited = self.query_one("#passage-cited", Static)
        cited.update(inert(shown.text))
        text.mount_all(self._around(shown.before), before=cited)
        text.mount_all(self._around(shown.after), after=cited)
        if shown.found:
            self._note(_("Esc goes back"))
        else:
            self._note(
                _("The document has changed since this answer: only the passage as cited is shown. Esc goes back")
            )
        self.call_after_refresh(self._scroll_to_passage)

    def _around(self, pieces: list[Piece]) -> list[Static]:
        """The text before or after the passage, with the page or slide named where it changes."""
        shown: list[Static] = []
        for piece in pieces:
            if piece.page is not None and piece.page != self.passage.page:
                label = _("slide {n}") if self.passage.is_slide else _("page {n}")
                shown.append(Static(f"— {label.format(n=piece.page)} —", classes="passage-page", markup=False))
            shown.append(Static(inert(piece.text), classes="passage-around", markup=False))
        return shown

    def _scroll_to_passage(self) -> None:
        self.query_one("#passage-text", VerticalScroll).scroll_to_widget(
            self.query_one("#passage-cited"), animate=False, center=True, origin_visible=True
        )

    def action_close(self) -> None:
        self.dismiss(None)
