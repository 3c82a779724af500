"""Comparing models from the chat: the prompt in the box goes to two or three models at once.

The `compare` intent (F7, palette "Compare models") asks for the models, saves the prompt
and one answer per model (core.chat.compare), and opens the compare screen, where every
answer streams into its own column. Choosing one makes it the conversation's branch; the
others stay beside it (◀ ▶). Esc stops every answer still being written: those that got no
text are taken back (all of them: the prompt goes back in the box). Leaving without choosing
keeps the answer that finished first.
Nothing heavy is imported here at module level (the first frame must stay light).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from mai_tui.i18n import _
from mai_tui.tui.widgets.prompt import PromptBox

if TYPE_CHECKING:
    from textual.worker import Worker

    from mai_tui.core.chat.parameters import Parameters
    from mai_tui.core.chat.turns import Turn
    from mai_tui.core.context import AppContext
    from mai_tui.core.providers.registry import Providers
    from mai_tui.tui.screens.chat import ChatScreen
    from mai_tui.tui.screens.compare import CompareScreen

log = logging.getLogger(__name__)


@dataclass
class Comparison:
    """The comparison under way: its turns (one per column, in order) and its screen."""

    turns: list[Turn]
    screen: CompareScreen
    text: str
    empty: set[int] = field(default_factory=set)  # columns stopped before their first token


class ChatCompare(App[None]):
    """The app's model comparisons; `MaiApp` provides the chat, the context and the helpers."""

    context: AppContext | None
    providers: Providers | None
    conversation_id: int | None
    model: str | None
    editing: int | None
    pending: Parameters
    comparison: Comparison | None = None

    if TYPE_CHECKING:  # the app that includes this defines them

        @property
        def chat(self) -> ChatScreen: ...

        def _answering(self) -> bool: ...

        def _take_over_budget(self) -> bool: ...

        def _header_totals(self) -> None: ...

        async def _refresh_list(self) -> None: ...

        async def _take_back(self, text: str) -> None: ...

        def name_conversation(self, conversation_id: int) -> Worker[None]: ...

    def start_compare(self) -> None:
        """The prompt in the box, to the two or three models the user marks next."""
        from mai_tui.core.providers import catalogue
        from mai_tui.tui.screens.compare_models import CompareModels

        text = self.chat.query_one(PromptBox).text
        if self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
            return
        if not text.strip():
            self.notify(_("Type a prompt first"), severity="warning")
            return
        if self._answering():
            self.notify(_("An answer is being written: Esc stops it."), severity="warning")
            return
        with self.context.session(write=False) as session:
            models = [entry.id for entry in catalogue.cached(session)]
        current = self.model or self.context.settings.default_model

        def chosen(marked: list[str] | None) -> None:
            if marked:
                self.run_compare(text, marked)

        self.push_screen(CompareModels(models, [current] if current else []), chosen)

    @work(exclusive=True, group="answer", exit_on_error=False)
    async def run_compare(self, text: str, models: list[str]) -> None:
        """Save the prompt and its answers (in a thread), open the compare screen and stream
        every answer into its column at once. Esc (or a new chat) cancels this worker."""
        from mai_tui.core.chat.compare import discard_compare, prepare_compare
        from mai_tui.core.errors import MaiError
        from mai_tui.tui.screens.compare import CompareScreen

        assert self.context is not None
        context, conversation_id, pending = self.context, self.conversation_id, self.pending
        over = self._take_over_budget()

        def prepare() -> list[Turn]:
            return prepare_compare(
                context,
                text,
                conversation_id=conversation_id,
                models=models,
                override_budget=over,
                system=pending.system_prompt,
                temperature=pending.temperature,
                max_tokens=pending.max_tokens,
            )

        preparing = asyncio.ensure_future(asyncio.to_thread(prepare))
        try:
            turns = await asyncio.shield(preparing)
        except asyncio.CancelledError:  # stopped while the prompt was being saved: take it all back
            with contextlib.suppress(MaiError):
                discard_compare(context, await preparing)
            raise
        except MaiError as error:  # e.g. no key for one of the models: nothing was saved
            self.notify(str(error), severity="error", timeout=10)
            return
        if turns[0].warning:
            self.notify(turns[0].warning, severity="warning", timeout=10)
        self.editing = None
        self.chat.query_one(PromptBox).clear()
        self.chat.set_notice("")
        self.conversation_id = turns[0].conversation_id
        screen = CompareScreen([turn.answer for turn in turns], text)
        comparison = self.comparison = Comparison(turns, screen, text)
        await self.push_screen(screen)
        await self._refresh_list()
        columns = [asyncio.create_task(self._compare_column(comparison, index)) for index in range(1, len(turns) + 1)]
        try:
            await asyncio.gather(*columns)  # each column deals with its own failure
        except asyncio.CancelledError:
            await asyncio.wait(columns)
            await self._compare_stopped(comparison)
            raise
        finally:
            self._header_totals()
        await self._refresh_list()
        if turns[0].prompt.parent_id is None and context.settings.title_model:
            self.name_conversation(turns[0].conversation_id)

    def _showing(self, comparison: Comparison) -> bool:
        return self.comparison is comparison

    async def _compare_column(self, comparison: Comparison, index: int) -> None:
        """Stream one model's answer into its column (and the database, and the ledger)."""
        from mai_tui.core.chat.streaming import stream_into
        from mai_tui.core.providers.events import Event, TextDelta

        assert self.context is not None
        assert self.providers is not None
        turn = comparison.turns[index - 1]
        received = False

        async def show(event: Event) -> None:
            nonlocal received
            if isinstance(event, TextDelta):
                received = True
                if self._showing(comparison):
                    await comparison.screen.column(index).write(event.text)

        try:
            await stream_into(
                self.context,
                self.providers.get(turn.provider),
                turn.request,
                turn.answer.id or 0,
                on_event=show,
                billing=turn.billing,
            )
        except asyncio.CancelledError:
            if received:  # kept as `cancelled` with what arrived
                await self._column_finished(comparison, index)
            else:
                comparison.empty.add(index)
            raise
        except Exception as error:  # stored as far as it got; the other columns go on
            log.exception("streaming a compared answer failed")
            if self._showing(comparison):
                comparison.screen.failed(index, f"{type(error).__name__}: {error}".splitlines()[0])
            return
        await self._column_finished(comparison, index)

    async def _column_finished(self, comparison: Comparison, index: int) -> None:
        from mai_tui.core.store.models import ChatMessage

        assert self.context is not None
        with self.context.session(write=False) as session:
            stored = session.get(ChatMessage, comparison.turns[index - 1].answer.id)
        if stored is not None and self._showing(comparison):
            await comparison.screen.finish(index, stored)

    async def _compare_stopped(self, comparison: Comparison) -> None:
        """After Esc: answers that got no text are taken back; if none got any, the whole
        comparison is, and the prompt goes back in the box."""
        from mai_tui.core.chat import tree as trees
        from mai_tui.core.chat.compare import discard_compare

        assert self.context is not None
        turns, empty = comparison.turns, sorted(comparison.empty)
        if len(empty) == len(turns):
            discard_compare(self.context, turns)
            if self._showing(comparison):
                self.comparison = None
                self.pop_screen()
            await self._take_back(comparison.text)
            return
        if empty:
            discard_compare(self.context, turns, [turns[index - 1].answer.id or 0 for index in empty])
        if self._showing(comparison):
            for index in empty:
                comparison.screen.column(index).dropped()
            comparison.screen.say()
        elif self.conversation_id == turns[0].conversation_id:  # chosen already: the branch count changed
            with self.context.session(write=False) as session:
                await self.chat.show_tree(trees.load(session, self.conversation_id))

    # --- intents from the compare screen ----------------------------------------------
    def on_compare_screen_stop(self) -> None:
        for worker in self.workers:  # once: a second Esc must not interrupt the clean-up of the first
            if worker.group == "answer" and not worker.is_finished and not worker.is_cancelled:
                worker.cancel()

    async def on_compare_screen_chosen(self, message: CompareScreen.Chosen) -> None:
        await self._continue_with(message.index, automatic=False)

    async def on_compare_screen_leave(self) -> None:
        comparison = self.comparison
        if comparison is None:
            return
        index = comparison.screen.first_finished()
        if index is None:  # nothing worth continuing from: the first answer still there (e.g. an error)
            index = next(i for i in range(1, len(comparison.turns) + 1) if i not in comparison.empty)
        await self._continue_with(index, automatic=True)

    async def _continue_with(self, index: int, *, automatic: bool) -> None:
        """The conversation goes on from the answer of column `index`; back to the chat."""
        from mai_tui.core.chat.compare import choose
        from mai_tui.core.errors import MaiError

        comparison = self.comparison
        if comparison is None or self.context is None:
            return
        turn = comparison.turns[index - 1]
        try:
            tree = choose(self.context, turn.conversation_id, turn.answer.id or 0)
        except MaiError as error:
            self.notify(str(error), severity="error")
            return
        self.comparison = None
        self.pop_screen()
        self.conversation_id = turn.conversation_id
        self.model = turn.model
        await self.chat.show_tree(tree)
        self._header_totals()
        await self._refresh_list()
        self.chat.set_notice(
            (
                _("Continuing with {model}, which finished first; the other answers are branches beside it (◀ ▶).")
                if automatic
                else _("Continuing with {model}; the other answers are branches beside it (◀ ▶).")
            ).format(model=turn.model)
        )
        self.chat.query_one(PromptBox).focus()
