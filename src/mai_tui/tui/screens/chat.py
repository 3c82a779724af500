"""The chat screen: recent conversations, the active branch of one conversation, the prompt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from mai_tui.i18n import _
from mai_tui.tui.bidi import visual
from mai_tui.tui.widgets.conversations import ConversationList, ConversationOptions
from mai_tui.tui.widgets.first_steps import FirstSteps
from mai_tui.tui.widgets.message import MessageView
from mai_tui.tui.widgets.prompt import PromptBox
from mai_tui.tui.widgets.references import ReferenceList
from mai_tui.tui.widgets.voice import VoiceStatus

if TYPE_CHECKING:  # the database layer loads in a worker, after the first frame
    from mai_tui.core.chat.history import Listed
    from mai_tui.core.chat.tree import Tree
    from mai_tui.core.store.models import ChatMessage


class ChatScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", _("Stop"), id="chat.stop"),
        Binding("ctrl+n", "new_chat", _("New chat"), id="chat.new"),
        Binding("ctrl+r", "intent('regenerate')", _("Regenerate"), id="chat.regenerate"),
        Binding("ctrl+t", "intent('continue')", _("Continue"), id="chat.continue", show=False),  # palette
        Binding("ctrl+up", "intent('edit')", _("Edit prompt"), id="chat.edit", show=False),
        Binding("alt+left", "intent('previous_branch')", _("◀ Branch"), id="chat.branch_previous", show=False),
        Binding("alt+right", "intent('next_branch')", _("Branch ▶"), id="chat.branch_next", show=False),
        Binding("alt+c", "intent('copy')", _("Copy answer"), id="chat.copy", show=False),
        Binding("ctrl+l", "intent('model')", _("Model"), id="chat.model"),
        Binding("ctrl+b", "conversations", _("Chats"), id="chat.conversations"),
        Binding("f2", "intent('parameters')", _("Parameters"), id="chat.parameters"),
        Binding("alt+k", "intent('copy_code')", _("Copy code"), id="chat.copy_code", show=False),
        Binding("ctrl+home", "earlier", _("Earlier messages"), id="chat.earlier", show=False),
        Binding("f3", "intent('usage')", _("Usage"), id="chat.usage"),  # the usage screen
        Binding("f4", "intent('voice')", _("Voice"), id="chat.voice"),  # push-to-talk: starts and stops
        Binding("f5", "intent('knowledge')", _("Knowledge"), id="chat.knowledge"),  # collections, adding, search
        # the catalogue, default model, presets (priority: the prompt box's TextArea binds F6 to "select line";
        # a priority binding would lead the footer: the palette names it instead)
        Binding("f6", "intent('models')", _("Models"), id="chat.models", priority=True, show=False),
        # the prompt to 2–3 models at once (priority: the prompt box's TextArea binds F7 to "select all")
        Binding("f7", "intent('compare')", _("Compare"), id="chat.compare", show=False, priority=True),
        Binding("ctrl+o", "intent('sources')", _("Sources"), id="chat.sources", show=False),  # named under the answer
        Binding("f9", "intent('settings')", _("Settings"), id="chat.settings", show=False),  # the settings screen
    ]
    WINDOW = 50  # messages mounted at a time: a 1,000-message chat opens as fast as a short one

    @dataclass
    class Stop(Message):
        """Esc: stop the recording (or transcription) under way, else the answer being written."""

    @dataclass
    class NewChat(Message):
        pass

    @dataclass
    class Intent(Message):
        """regenerate, continue, edit, previous_branch, next_branch, copy, voice … (the app does the work)."""

        name: str

    @dataclass
    class Open(Message):
        conversation_id: int

    def __init__(self) -> None:
        super().__init__()
        self._tree: Tree | None = None
        self._path: list[ChatMessage] = []
        self._shown_from = 0

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with Horizontal():
            yield ConversationList(id="conversations")
            with Vertical(id="chat"):
                with VerticalScroll(id="messages"), Vertical(id="welcome"):
                    yield Static(self.app.title, id="brand")
                    yield Static(visual(self._tagline()), id="tagline")
                    yield Static(visual(_("Opening the database…")), id="status")
                    yield FirstSteps(id="first-steps")  # no provider yet: points at the help (F1)
                yield ReferenceList(id="references")  # `#name` completion, shown while typing one
                yield Static("", id="notice")
                yield VoiceStatus(id="voice")
                yield PromptBox(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PromptBox).focus()

    # --- what the app tells the screen ------------------------------------------------
    def set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(visual(text))

    def set_notice(self, text: str) -> None:
        self.query_one("#notice", Static).update(visual(text))

    @staticmethod
    def _tagline() -> str:
        return _("Chat with any provider, ask your documents, see every cent.")

    def retranslate(self) -> None:
        """Redraw the texts drawn at run time in the language just chosen (key labels wait for a restart)."""
        self.query_one("#tagline", Static).update(visual(self._tagline()))
        self.query_one(ConversationList).retranslate()
        for view in self.query(MessageView):
            view.refresh_labels()

    def key_for(self, binding_id: str) -> str:
        """The key bound to `binding_id` (it follows the user's keymap), for a sentence: F4, Esc, ^o."""
        for active in self.active_bindings.values():
            if active.binding.id == binding_id:
                shown = self.app.get_key_display(active.binding)
                return shown[:1].upper() + shown[1:]
        return ""

    def list_conversations(
        self, listed: list[Listed], current: int | None, *, append: bool = False, more: bool = False
    ) -> None:
        self.query_one(ConversationList).show(listed, current, append=append, more=more)

    async def show_tree(self, tree: Tree | None) -> None:
        """Show the conversation's active branch (or the welcome panel when there is none).

        Only the newest WINDOW messages are mounted; Ctrl+Home brings earlier ones in.
        """
        container = self.query_one("#messages", VerticalScroll)
        await container.query(MessageView).remove()
        await container.query("#earlier").remove()
        self.query_one("#welcome").display = tree is None or not tree.messages
        self._tree = tree
        self._path = tree.path() if tree is not None else []
        self._shown_from = max(0, len(self._path) - self.WINDOW)
        await container.mount_all(self._views(self._shown_from, len(self._path)))
        await self._earlier_hint()
        container.scroll_end(animate=False)

    def _views(self, start: int, end: int) -> list[MessageView]:
        assert self._tree is not None or start == end
        return [MessageView(m, self._branch_label(self._tree, m)) for m in self._path[start:end]]  # type: ignore[arg-type]

    async def _earlier_hint(self) -> None:
        container = self.query_one("#messages", VerticalScroll)
        await container.query("#earlier").remove()
        if self._shown_from:
            hint = Static(_("▲ {n} earlier messages — Ctrl+Home shows more").format(n=self._shown_from), id="earlier")
            await container.mount(hint, before=container.query(MessageView).first())

    async def action_earlier(self) -> None:
        if not self._shown_from:
            return
        container = self.query_one("#messages", VerticalScroll)
        start = max(0, self._shown_from - self.WINDOW)
        await container.mount_all(self._views(start, self._shown_from), before=container.query(MessageView).first())
        self._shown_from = start
        await self._earlier_hint()
        container.scroll_home(animate=False)

    @staticmethod
    def _branch_label(tree: Tree, message: ChatMessage) -> str:
        branch = tree.branch(message)
        return f"◀ {branch.index}/{branch.count} ▶" if branch.count > 1 else ""

    async def add_turn(self, prompt: ChatMessage, answer: ChatMessage) -> MessageView:
        container = self.query_one("#messages", VerticalScroll)
        self.query_one("#welcome").display = False
        view = MessageView(answer)
        await container.mount_all([MessageView(prompt), view])
        view.start_stream()
        container.scroll_end(animate=False)
        self.follow()
        return view

    def follow(self) -> None:
        """Keep the newest text in view while the user stays at the bottom (Textual's anchor lets
        go as soon as they scroll up, and holds again when they come back down)."""
        self.query_one("#messages", VerticalScroll).anchor()

    # --- what the user does -----------------------------------------------------------
    def action_stop(self) -> None:
        self.post_message(self.Stop())

    def action_new_chat(self) -> None:
        self.post_message(self.NewChat())

    def commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """(title, help, action) of every chat action, for the command palette."""
        return [
            (_("New chat"), _("Start a new conversation"), self.action_new_chat),
            (_("Stop"), _("Stop the answer being written"), self.action_stop),
            (
                _("Regenerate"),
                _("A new answer to the last prompt, kept beside the old one"),
                lambda: self.action_intent("regenerate"),
            ),
            (
                _("Compare models"),
                _("Send the prompt in the box to 2 or 3 models side by side, then continue with one answer"),
                lambda: self.action_intent("compare"),
            ),
            (_("Continue"), _("Carry on a cut-off answer"), lambda: self.action_intent("continue")),
            (
                _("Edit prompt"),
                _("Edit the last prompt and send it as a new branch"),
                lambda: self.action_intent("edit"),
            ),
            (_("◀ Branch"), _("Show the previous branch"), lambda: self.action_intent("previous_branch")),
            (_("Branch ▶"), _("Show the next branch"), lambda: self.action_intent("next_branch")),
            (_("Copy answer"), _("Copy the last answer to the clipboard"), lambda: self.action_intent("copy")),
            (_("Copy code"), _("Copy the last code block of the last answer"), lambda: self.action_intent("copy_code")),
            (_("Model"), _("Choose the model for this conversation"), lambda: self.action_intent("model")),
            (
                _("Parameters"),
                _("System prompt, temperature and max tokens of this conversation"),
                lambda: self.action_intent("parameters"),
            ),
            (_("Chats"), _("Go to the list of conversations"), self.action_conversations),
            (
                _("Export conversation"),
                _("This conversation to a Markdown or JSON file"),
                lambda: self.action_intent("export"),
            ),
            (
                _("Import conversations"),
                _("From a mai, Open WebUI or ChatGPT (conversations.json) export"),
                lambda: self.action_intent("import"),
            ),
            (_("Earlier messages"), _("Show earlier messages of a long conversation"), self.action_earlier),
            (
                _("Usage"),
                _("Spend and tokens per organization, limits, charts, CSV export, sync"),
                lambda: self.action_intent("usage"),
            ),
            (
                _("Knowledge"),
                _("Document collections: create, add files and folders, search them offline"),
                lambda: self.action_intent("knowledge"),
            ),
            (
                _("Models"),
                _("Every model with its context and price, connection status, the default model, presets"),
                lambda: self.action_intent("models"),
            ),
            (
                _("New chat with preset"),
                _("Start a new conversation from a preset: its model, system prompt, parameters and documents"),
                lambda: self.action_intent("preset"),
            ),
            (
                _("Voice"),
                _("Speak a prompt: starts recording from the microphone, or stops it and transcribes"),
                lambda: self.action_intent("voice"),
            ),
            (
                _("Sources"),
                _("The passages behind the last answer from your documents; read one in its document"),
                lambda: self.action_intent("sources"),
            ),
            (
                _("Prompts"),
                _("Saved prompts, used as /command in the prompt: add, edit, delete"),
                lambda: self.action_intent("prompts"),
            ),
            (
                _("Settings"),
                _("Every setting of config.toml and the API keys: models, providers, look, documents, keymap"),
                lambda: self.action_intent("settings"),
            ),
            (_("Language"), _("Choose the language of the app"), lambda: self.action_intent("language")),
        ]

    def action_conversations(self) -> None:
        self.query_one(ConversationOptions).focus()

    def action_intent(self, name: str) -> None:
        self.post_message(self.Intent(name))

    def on_prompt_box_suggestions(self, message: PromptBox.Suggestions) -> None:
        self.query_one(ReferenceList).show(message.names, message.highlighted, message.trigger)

    def on_option_list_option_selected(self, event: ReferenceList.OptionSelected) -> None:
        if isinstance(event.option_list, ReferenceList):  # a click on a suggested name
            self.query_one(PromptBox).accept_suggestion(event.option_index)

    def on_conversation_list_open(self, event: ConversationList.Open) -> None:
        event.stop()
        self.post_message(self.Open(event.conversation_id))
        self.query_one(PromptBox).focus()
