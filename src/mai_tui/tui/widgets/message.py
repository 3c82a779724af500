"""One message of the conversation: who, the text (Markdown, streamed), and its numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from mai_tui.core.chat.sanitize import inert
from mai_tui.i18n import _
from mai_tui.tui.bidi import visual, visual_fields, visual_markdown
from mai_tui.tui.widgets.sources import SourcesList

if TYPE_CHECKING:  # the database layer loads in a worker, after the first frame
    from mai_tui.core.knowledge.retrieval import Passage
    from mai_tui.core.store.models import ChatMessage

FLUSH_SECONDS = 1 / 15  # how often streamed text reaches the screen
RETRYABLE_KINDS = {"rate_limited", "overloaded", "server_error", "network", "timeout", "stream_error"}


def meta_line(message: ChatMessage) -> str:
    """model · tokens in → out · cost · time, for what the provider reported."""
    from mai_tui.core.formats import money, number  # Babel: loaded with the first answer, not the first frame

    parts = [message.model or ""]
    if message.prompt_tokens is not None:
        parts.append(
            _("{prompt} → {completion} tokens").format(
                prompt=message.prompt_tokens, completion=message.completion_tokens or 0
            )
        )
    if message.cost_usd is not None:
        cost = message.cost_usd
        parts.append(money(cost) if cost < Decimal("0.01") else money(cost, places=4))  # tiny costs: every digit
    if message.duration_ms is not None:
        parts.append(f"{number(message.duration_ms / 1000, places=1)} s")
    if message.status == "cancelled":
        parts.append(_("stopped"))
    return " · ".join(p for p in parts if p)


class MessageView(Vertical):
    """A prompt or an answer. Text from models and imports is made inert before display."""

    def __init__(self, message: ChatMessage, branch: str = "") -> None:
        super().__init__(classes=f"message {message.role}")
        self.message = message
        self.branch = branch
        self._stream: MarkdownStream | None = None
        self._pending: list[str] = []
        self._flusher: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._who(), classes="who")
        yield Markdown(visual_markdown(inert(self.message.content)), classes="body")
        passages = self.passages()
        if passages:
            yield SourcesList(passages, self.message.content, self._sources_key())
        yield Static(visual_fields(self._footer()), classes="meta")

    def _who(self) -> str:
        role = _("You") if self.message.role == "user" else (self.message.model or _("Assistant"))
        return visual(f"{role}  {self.branch}".rstrip())

    def refresh_labels(self) -> None:
        """Who wrote it and the numbers, again (the language changed)."""
        self.query_one(".who", Static).update(self._who())
        self.refresh_meta()

    def passages(self) -> list[Passage]:
        """The sources this answer was given (none for an answer without documents)."""
        if self.message.role != "assistant" or not self.message.citations:
            return []
        from mai_tui.core.knowledge.rag import load_citations

        return load_citations(self.message.citations)

    def _sources_key(self) -> str:
        """The key that opens the sources (it follows the user's keymap), where the screen has one."""
        key_for = getattr(self.screen, "key_for", None)
        return str(key_for("chat.sources")) if key_for is not None else ""

    def _footer(self) -> str:
        if self.message.role != "assistant":
            return ""
        line = meta_line(self.message)
        if self.message.error:
            hint = _(" — Ctrl+R to try again") if self.message.error_kind in RETRYABLE_KINDS else ""
            line = f"⚠ {inert(self.message.error)}{hint}" + (f"\n{line}" if line else "")
        return line

    @property
    def body(self) -> Markdown:
        return self.query_one(".body", Markdown)

    def start_stream(self) -> None:
        self._stream = Markdown.get_stream(self.body)
        self._flusher = self.set_interval(FLUSH_SECONDS, self._flush)

    async def write(self, fragment: str) -> None:
        """Queue a delta; it reaches the screen with the next flush (each render of a growing
        document re-lays out the screen, so a few renders a second beat one per token)."""
        self._pending.append(inert(fragment))

    async def _flush(self) -> None:
        if self._stream is not None and self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            await self._stream.write(text)

    async def finish(self, message: ChatMessage) -> None:
        """The stream ended: the last text and the numbers. The document is rendered in full once
        more only if what was streamed differs from what was stored (a big answer re-renders in
        about half a second, so it is not done for nothing)."""
        if self._flusher is not None:
            self._flusher.stop()
            self._flusher = None
        await self._flush()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.message = message
        final = visual_markdown(inert(message.content))  # right-to-left lines: reordered once complete
        if self.body.source != final:
            await self.body.update(final)
        for sources in self.query(SourcesList):
            sources.update_cited(message.content)
        self.refresh_meta()

    def refresh_meta(self) -> None:
        self.query_one(".meta", Static).update(visual_fields(self._footer()))
