"""One prompt, two or three models side by side: each column streams its answer and then shows
its tokens and cost. 1/2/3 (or Enter on a column) continues the conversation with that answer;
Esc stops the answers still being written, and once none is, leaves with the answer that
finished first (the others stay as branches of the conversation either way).

The screen only shows and asks: the app streams into the columns and does the choosing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from mai_tui.core.chat.sanitize import inert
from mai_tui.i18n import _, ngettext
from mai_tui.tui.widgets.message import MessageView, meta_line

if TYPE_CHECKING:
    from mai_tui.core.store.models import ChatMessage

# What a column's answer has come to.
STREAMING, DONE, FAILED, STOPPED, DROPPED = "streaming", "done", "failed", "stopped", "dropped"


class CompareColumn(Vertical):
    """One model's answer: its name, the streamed text, and a footer with its numbers."""

    def __init__(self, index: int, answer: ChatMessage) -> None:
        super().__init__(id=f"compare-{index}")
        self.index = index  # from 1, as the key that chooses it
        self.answer = answer
        self.state = STREAMING
        self.problem = ""  # an unexpected failure while streaming (the provider's errors are in `answer`)
        self.view = MessageView(answer)

    def compose(self) -> ComposeResult:
        yield Static(f"{self.index}  {inert(self.answer.model or '')}", classes="compare-head", markup=False)
        with VerticalScroll(classes="compare-body"):
            yield self.view
        yield Static(_("Writing…"), classes="compare-foot", markup=False)

    def on_mount(self) -> None:
        self.view.start_stream()

    @property
    def choosable(self) -> bool:
        return self.state == DONE or (self.state == STOPPED and bool(self.answer.content))

    async def write(self, text: str) -> None:
        if not self.is_attached:
            return
        await self.view.write(text)
        body = self.query_one(".compare-body", VerticalScroll)
        if not body.is_anchored and body.max_scroll_y > 0:  # once the text fills the column, follow it
            body.anchor()  # (anchored earlier, a short answer would sit at the bottom)

    async def finish(self, stored: ChatMessage) -> None:
        """The stream ended: the final text, then tokens, cost and time (or what went wrong)."""
        self.answer = stored
        await self.view.finish(stored)
        self.state = {"complete": DONE, "error": FAILED, "cancelled": STOPPED}.get(stored.status, DONE)
        self.refresh_foot()

    def failed(self, reason: str) -> None:
        """An unexpected failure (not the provider's answer): the text so far stays."""
        self.state = FAILED
        self.problem = reason
        self.refresh_foot()

    def dropped(self) -> None:
        """Stopped before its first token: this answer is not kept."""
        self.state = DROPPED
        self.refresh_foot()

    def refresh_foot(self) -> None:
        """The footer for the state reached: tokens in → out, cost and time once done."""
        if self.state == STREAMING:
            text = _("Writing…")
        elif self.state == DROPPED:
            text = _("Stopped before any text: not kept.")
        else:
            text = meta_line(self.answer).removeprefix(self.answer.model or "").removeprefix(" · ")
            problem = self.problem or self.answer.error
            if problem:
                text = f"⚠ {inert(problem)}" + (f"\n{text}" if text else "")
        self.set_class(self.state == FAILED, "failed")
        self.query_one(".compare-foot", Static).update(text)


class CompareScreen(Screen[None]):
    CSS_PATH = "compare.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "escape", _("Stop / leave"), id="compare.escape"),
        Binding("1", "choose(1)", _("Choose 1"), id="compare.choose_1"),
        Binding("2", "choose(2)", _("Choose 2"), id="compare.choose_2"),
        Binding("3", "choose(3)", _("Choose 3"), id="compare.choose_3"),
        Binding("enter", "choose_focused", _("Choose this"), id="compare.choose_focused", show=False),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    @dataclass
    class Stop(Message):
        """Esc while answers are being written: stop them all (what has arrived is kept)."""

    @dataclass
    class Chosen(Message):
        """Continue the conversation with the answer of column `index` (from 1)."""

        index: int

    @dataclass
    class Leave(Message):
        """Esc once nothing is being written: go back to the chat without choosing."""

    def __init__(self, answers: list[ChatMessage], prompt: str) -> None:
        super().__init__()
        self.columns = [CompareColumn(index, answer) for index, answer in enumerate(answers, 1)]
        self.prompt = prompt
        self.finished: list[int] = []  # column indexes, in the order their answers ended

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        first_line = self.prompt.strip().splitlines()[0] if self.prompt.strip() else ""
        yield Static(_("You: {prompt}").format(prompt=inert(first_line)), id="compare-prompt", markup=False)
        with Horizontal(id="compare-columns"):
            yield from self.columns
        yield Static("", id="compare-notice", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.columns[0].query_one(".compare-body").focus()
        self.say()

    # --- what the app tells the screen ------------------------------------------------
    def column(self, index: int) -> CompareColumn:
        return self.columns[index - 1]

    @property
    def streaming(self) -> bool:
        return any(column.state == STREAMING for column in self.columns)

    async def finish(self, index: int, stored: ChatMessage) -> None:
        self.finished.append(index)
        await self.column(index).finish(stored)
        self.say()

    def failed(self, index: int, reason: str) -> None:
        self.finished.append(index)
        self.column(index).failed(reason)
        self.say()

    def first_finished(self) -> int | None:
        """What Esc leaves with: the first answer to finish well, else the first with any text."""
        by_time = [self.column(index) for index in self.finished]
        best = next((c for c in by_time if c.state == DONE), None) or next((c for c in by_time if c.choosable), None)
        return best.index if best is not None else None

    def say(self) -> None:
        """The line under the columns: what the keys do now."""
        keys = f"1–{len(self.columns)}"
        writing = sum(column.state == STREAMING for column in self.columns)
        if writing:
            text = ngettext(
                "{n} answer is being written: Esc stops it. {keys} chooses a finished one.",
                "{n} answers are being written: Esc stops them all. {keys} chooses a finished one.",
                writing,
            ).format(n=writing, keys=keys)
        else:
            first = self.first_finished()
            text = (
                _(
                    "{keys} (or Enter on a column) continues with that answer; Esc keeps {model}, which finished first."
                ).format(keys=keys, model=self.column(first).answer.model or first)
                if first is not None
                else _("No answer to continue with: Esc goes back to the chat.")
            )
        self.query_one("#compare-notice", Static).update(text)

    # --- what the user does -----------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and parameters and isinstance(parameters[0], int):
            return parameters[0] <= len(self.columns)  # no "Choose 3" with two columns
        return True

    def action_escape(self) -> None:
        self.post_message(self.Stop() if self.streaming else self.Leave())

    def action_choose(self, index: int) -> None:
        if not 1 <= index <= len(self.columns):
            return
        column = self.column(index)
        if column.choosable:
            self.post_message(self.Chosen(index))
        elif column.state == STREAMING:
            self.notify(_("That answer is still being written: wait for it, or Esc stops it."), severity="warning")
        else:
            self.notify(_("That answer has nothing to continue from: choose another."), severity="warning")

    def action_choose_focused(self) -> None:
        focused = self.focused
        for node in focused.ancestors_with_self if focused is not None else []:
            if isinstance(node, CompareColumn):
                self.action_choose(node.index)
                return
