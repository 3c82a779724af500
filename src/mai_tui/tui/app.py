"""The Textual app: the controller. Screens post intents; work runs in workers here.

The first frame needs only the brand, theme and language (read quickly with `peek`); the
settings are validated, the database opened (and migrated) in a worker right after it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message

from mai_tui.i18n import _, ngettext, set_language
from mai_tui.locations import DEFAULT_BRAND, DEFAULT_THEME, Paths, peek
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.themes import register_themes
from mai_tui.tui.widgets.prompt import PromptBox

if TYPE_CHECKING:
    from mai_tui.core.chat.turns import Turn
    from mai_tui.core.context import AppContext
    from mai_tui.core.providers.events import Event
    from mai_tui.core.providers.registry import Providers
    from mai_tui.tui.widgets.message import MessageView

log = logging.getLogger(__name__)


@dataclass
class SignedIn(Message):
    """Settings are valid, the database is ready and the current user is known."""

    context: AppContext
    name: str
    role: str


@dataclass
class StartupFailed(Message):
    reason: str


class MaiApp(App[None]):
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", _("Quit"), id="app.quit", priority=True)]

    def __init__(self) -> None:
        super().__init__()
        self.paths = Paths.from_environment()
        self.context: AppContext | None = None
        self.providers: Providers | None = None
        self.conversation_id: int | None = None
        language = peek("language", "")
        set_language(language or None)
        self.title = peek("webui_name", DEFAULT_BRAND)
        self.theme_problems = register_themes(self, self.paths)
        theme = peek("theme", DEFAULT_THEME)
        if theme in self.available_themes:
            self.theme = theme

    @property
    def chat(self) -> ChatScreen:
        return self.get_screen("chat", ChatScreen)

    def on_mount(self) -> None:
        self.install_screen(ChatScreen(), "chat")
        self.push_screen("chat")
        # After the first paint: validate settings and open (and migrate) the database in a thread.
        self.call_after_refresh(self.run_worker, self._start, thread=True, name="startup", exit_on_error=False)

    def _start(self) -> None:
        from mai_tui.core.context import load_context
        from mai_tui.core.errors import MaiError

        try:
            context = load_context()
            from mai_tui.core.chat.conversations import close_interrupted

            with context.session() as session:
                user = context.current_user(session)
                close_interrupted(session)
                self.post_message(SignedIn(context, user.name, user.role))
        except MaiError as error:
            self.post_message(StartupFailed(str(error)))
        except Exception as error:  # never die silently in a worker: show it, log the details
            log.exception("start-up failed")
            self.post_message(StartupFailed(f"{type(error).__name__}: {error}".splitlines()[0]))

    async def on_signed_in(self, message: SignedIn) -> None:
        from mai_tui.core.providers.registry import Providers

        self.context = message.context
        self.providers = Providers(message.context.settings, message.context.secrets)
        self.chat.set_status(_("Signed in as {name} ({role}).").format(name=message.name, role=message.role))
        self.sub_title = message.context.settings.default_model or _("no model chosen (set default_model)")
        await self._refresh_list()

    def on_startup_failed(self, message: StartupFailed) -> None:
        self.chat.set_status(_("Cannot start: {reason}").format(reason=message.reason))
        self.notify(message.reason, title=_("Start-up"), severity="error", timeout=30)

    async def _refresh_list(self) -> None:
        from mai_tui.core.chat.turns import recent

        if self.context is None:
            return
        with self.context.session(write=False) as session:
            user = self.context.current_user(session)
            conversations = recent(session, user.id)
        self.chat.list_conversations(conversations, self.conversation_id)

    def _header_totals(self) -> None:
        from mai_tui.core.chat.turns import total_cost

        if self.context is None or self.conversation_id is None:
            return
        with self.context.session(write=False) as session:
            cost = total_cost(session, self.conversation_id)
        model = self.context.settings.default_model or ""
        self.sub_title = f"{model} · ${cost:f}" if cost else model

    # --- intents from the chat screen ---------------------------------------------------
    def on_prompt_box_submitted(self, message: PromptBox.Submitted) -> None:
        if self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
            self.chat.query_one(PromptBox).load_text(message.text)
            return
        self.answer(message.text)

    def on_chat_screen_stop(self) -> None:
        self.workers.cancel_group(self, "answer")

    async def on_chat_screen_new_chat(self) -> None:
        self.workers.cancel_group(self, "answer")
        self.conversation_id = None
        await self.chat.show_tree(None)
        self.chat.set_notice("")

    async def on_chat_screen_open(self, message: ChatScreen.Open) -> None:
        from mai_tui.core.chat import tree as trees

        if self.context is None:
            return
        self.conversation_id = message.conversation_id
        with self.context.session(write=False) as session:
            tree = trees.load(session, message.conversation_id)
        await self.chat.show_tree(tree)
        self._header_totals()

    # --- the work -----------------------------------------------------------------------
    @work(exclusive=True, group="answer", exit_on_error=False)
    async def answer(self, text: str) -> None:
        """Save the prompt, stream the answer into the screen and the database; Esc stops it."""
        from mai_tui.core.chat.turns import prepare_turn
        from mai_tui.core.errors import MaiError

        assert self.context is not None
        assert self.providers is not None
        try:
            turn = await asyncio.to_thread(prepare_turn, self.context, text, conversation_id=self.conversation_id)
        except MaiError as error:
            self.notify(str(error), severity="error", timeout=10)
            self.chat.query_one(PromptBox).load_text(text)
            return
        self.conversation_id = turn.conversation_id
        self.chat.set_notice(
            ngettext(
                "{n} older message left out to fit the model's context",
                "{n} older messages left out to fit the model's context",
                turn.dropped,
            ).format(n=turn.dropped)
            if turn.dropped
            else ""
        )
        view = await self.chat.add_turn(turn.prompt, turn.answer)
        await self._stream(turn, view, text)

    async def _stream(self, turn: Turn, view: MessageView, text: str) -> None:
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
                await view.write(event.text)
                self.chat.follow()

        try:
            await stream_into(
                self.context, self.providers.get(turn.provider), turn.request, turn.answer.id or 0, on_event=show
            )
        except asyncio.CancelledError:
            if not received:  # nothing arrived: the prompt goes back into the box, as if never sent
                discard_turn(self.context, turn)
                self.conversation_id = turn.prompt.parent_id and turn.conversation_id
                await self._take_back(view, text)
                raise
        with self.context.session(write=False) as session:
            stored = session.get(ChatMessage, turn.answer.id)
        if stored is not None:
            await view.finish(stored)
        self._header_totals()
        await self._refresh_list()

    async def _take_back(self, view: MessageView, text: str) -> None:
        views = list(self.chat.query("MessageView"))
        for widget in views[-2:]:
            await widget.remove()
        if not self.chat.query("MessageView"):
            self.chat.query_one("#welcome").display = True
        self.chat.query_one(PromptBox).load_text(text)
