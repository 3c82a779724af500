"""Turns in the app: prepare a turn in a thread, stream its answer into the screen and the
database, take a turn back when it is stopped before anything arrived, name new chats.

A mixin of `MaiApp` (which provides `chat`, `context`, `providers` and the list refresh).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from mai_tui.i18n import ngettext
from mai_tui.tui.widgets.message import MessageView
from mai_tui.tui.widgets.prompt import PromptBox

if TYPE_CHECKING:
    from collections.abc import Callable

    from mai_tui.core.chat.turns import Turn
    from mai_tui.core.context import AppContext
    from mai_tui.core.providers.events import Event
    from mai_tui.core.providers.registry import Providers
    from mai_tui.tui.screens.chat import ChatScreen

log = logging.getLogger(__name__)


class ChatTurns(App[None]):
    """Answers streaming into the chat."""

    context: AppContext | None
    providers: Providers | None
    conversation_id: int | None

    if TYPE_CHECKING:  # the app that includes this defines them

        @property
        def chat(self) -> ChatScreen: ...

        async def _refresh_list(self) -> None: ...

        def _header_totals(self) -> None: ...

    @work(exclusive=True, group="answer", exit_on_error=False)
    async def run_turn(
        self, prepare: Callable[[], Turn], *, take_back: str | None = None, redraw: bool = False
    ) -> None:
        """Prepare a turn (in a thread: it writes to the database), then stream its answer into
        the screen and the database. Esc cancels this worker."""
        from mai_tui.core.chat import tree as trees
        from mai_tui.core.chat.turns import discard_turn
        from mai_tui.core.errors import MaiError

        assert self.context is not None
        context, shown = self.context, self.conversation_id
        preparing = asyncio.ensure_future(asyncio.to_thread(prepare))
        try:
            turn = await asyncio.shield(preparing)
        except asyncio.CancelledError:  # stopped while the prompt was being saved: take it all back
            with contextlib.suppress(MaiError):
                discard_turn(context, await preparing)
            if take_back is not None:
                await self._take_back(take_back)
            raise
        except MaiError as error:
            self.notify(str(error), severity="error", timeout=10)
            if take_back is not None:
                self.chat.query_one(PromptBox).load_text(take_back)
            return
        if turn.warning:
            self.notify(turn.warning, severity="warning", timeout=10)
        if self.conversation_id != shown:  # the user opened another chat meanwhile: answer in the background
            view = MessageView(turn.answer)
            await self._stream(turn, view, None)
            return
        if self.conversation_id != turn.conversation_id:  # a new conversation: list it at once
            self.conversation_id = turn.conversation_id
            await self._refresh_list()
        self.chat.set_notice(
            ngettext(
                "{n} older message left out to fit the model's context",
                "{n} older messages left out to fit the model's context",
                turn.dropped,
            ).format(n=turn.dropped)
            if turn.dropped
            else ""
        )
        if redraw:
            with self.context.session(write=False) as session:
                await self.chat.show_tree(trees.load(session, turn.conversation_id))
            view = self.chat.query(MessageView).last()
            view.start_stream()
            self.chat.follow()
        else:
            view = await self.chat.add_turn(turn.prompt, turn.answer)
        await self._stream(turn, view, take_back)

    async def _stream(self, turn: Turn, view: MessageView, take_back: str | None) -> None:
        from mai_tui.core.chat import tree as trees
        from mai_tui.core.chat.streaming import stream_into
        from mai_tui.core.chat.turns import discard_turn
        from mai_tui.core.providers.events import TextDelta
        from mai_tui.core.store.models import ChatMessage

        assert self.context is not None
        assert self.providers is not None
        received = False

        async def show(event: Event) -> None:
            nonlocal received
            if isinstance(event, TextDelta):
                received = True
                if view.is_attached:  # the user may have opened another conversation meanwhile
                    await view.write(event.text)

        try:
            await stream_into(
                self.context,
                self.providers.get(turn.provider),
                turn.request,
                turn.answer.id or 0,
                on_event=show,
                prefix=turn.prefix,
                billing=turn.billing,
            )
        except asyncio.CancelledError:
            if not received and not turn.prefix:  # nothing arrived: the turn is taken back
                discard_turn(self.context, turn)
                if take_back is not None:  # and the prompt goes back in the box
                    await self._take_back(take_back)
                elif self.conversation_id == turn.conversation_id:
                    with self.context.session(write=False) as session:
                        await self.chat.show_tree(trees.load(session, turn.conversation_id))
                raise
            # text had arrived: it is stored as `cancelled`; show it as stopped below
        except Exception as error:  # the answer is stored as far as it got; say what went wrong
            log.exception("streaming the answer failed")
            self.notify(f"{type(error).__name__}: {error}".splitlines()[0], severity="error", timeout=10)
            return
        with self.context.session(write=False) as session:
            stored = session.get(ChatMessage, turn.answer.id)
        if stored is not None and view.is_attached:
            await view.finish(stored)
        self._header_totals()
        await self._refresh_list()
        if turn.prompt.parent_id is None and self.context.settings.title_model:
            self.name_conversation(turn.conversation_id)

    @work(group="titles", exit_on_error=False)
    async def name_conversation(self, conversation_id: int) -> None:
        """A short title from the title model, in the background; the first line stays if it fails."""
        from mai_tui.core.chat.titles import generate_title

        assert self.context is not None
        assert self.providers is not None
        try:
            title = await generate_title(self.context, self.providers, conversation_id)
        except Exception:  # a title is a nicety: never an error dialog
            log.exception("naming the conversation failed")
            return
        if title:
            await self._refresh_list()

    async def _take_back(self, text: str) -> None:
        from mai_tui.core.chat import tree as trees
        from mai_tui.core.store.models import Conversation

        assert self.context is not None
        tree = None
        if self.conversation_id is not None:
            with self.context.session(write=False) as session:
                conversation = session.get(Conversation, self.conversation_id)
                tree = trees.load(session, self.conversation_id) if conversation is not None else None
        if tree is None:
            self.conversation_id = None
        await self.chat.show_tree(tree)
        await self._refresh_list()
        self.chat.query_one(PromptBox).load_text(text)
