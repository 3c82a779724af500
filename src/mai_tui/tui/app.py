"""The Textual app: the controller. Screens post intents; work runs in workers here.

The first frame needs only the brand, theme and language (read quickly with `peek`); the
settings are validated, the database opened (and migrated) in a worker right after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from textual import work
from textual.app import SuspendNotSupported, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from mai_tui.core.chat.parameters import Parameters
from mai_tui.core.chat.sanitize import code_blocks
from mai_tui.i18n import _, set_language
from mai_tui.locations import DEFAULT_BRAND, DEFAULT_THEME, Paths, peek
from mai_tui.tui.app_help import AppHelp
from mai_tui.tui.app_language import AppLanguage
from mai_tui.tui.app_settings import AppSettings
from mai_tui.tui.chat_compare import ChatCompare
from mai_tui.tui.chat_history import ChatHistory
from mai_tui.tui.chat_knowledge import ChatKnowledge
from mai_tui.tui.chat_models import ChatModels
from mai_tui.tui.chat_prompts import ChatPrompts
from mai_tui.tui.chat_turns import ChatTurns
from mai_tui.tui.push_to_talk import PushToTalk
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.screens.model_picker import ModelPicker
from mai_tui.tui.screens.parameters import ParametersScreen
from mai_tui.tui.themes import brand_color, header_variables, register_themes
from mai_tui.tui.widgets.conversations import ConversationList
from mai_tui.tui.widgets.prompt import PromptBox

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.core.providers.registry import Providers

log = logging.getLogger(__name__)


@dataclass
class SignedIn(Message):
    """Settings are valid, the database is ready and the current user is known."""

    context: AppContext
    name: str
    role: str
    org: str  # who pays for this user's calls
    timezone: str = "UTC"  # the org's: dates are shown in it
    first_steps: bool = False  # no provider to chat with yet: the welcome panel points at the help (F1)


@dataclass
class StartupFailed(Message):
    reason: str


class MaiApp(
    ChatTurns,
    ChatHistory,
    ChatKnowledge,
    ChatPrompts,
    ChatModels,
    ChatCompare,
    PushToTalk,
    AppSettings,
    AppHelp,
    AppLanguage,
):
    CSS_PATH: ClassVar[list[str | PurePath]] = ["app.tcss", "themes.tcss"]  # themes.tcss: the header
    FIRST_SYNC_AFTER = 15.0  # seconds after start-up: let the app settle before the first sync cycle
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", _("Quit"), id="app.quit", priority=True)]

    def __init__(self) -> None:
        # Before Textual builds the stylesheet: the header's colours are in it (get_css_variables).
        self.brand_color = brand_color(peek("brand_color", ""))
        super().__init__()
        self.paths = Paths.from_environment()
        self.context: AppContext | None = None
        self.providers: Providers | None = None
        self.conversation_id: int | None = None
        self.editing: int | None = None  # the prompt being edited into a new branch
        self.model: str | None = None  # this conversation's model; None = the default model
        self.pending = Parameters()  # system prompt and parameters for the next new conversation
        self.admin = False
        self.over_budget = False  # an admin chose to send the next message past the org's monthly limit
        self.signed_in: SignedIn | None = None  # who, for the status line (redrawn when the language changes)
        language = peek("language", "")
        set_language(language or None)
        self.title = peek("webui_name", DEFAULT_BRAND)
        self.theme_problems = register_themes(self, self.paths)  # shown once the screen is up
        theme = peek("theme", DEFAULT_THEME)
        if theme not in self.available_themes:
            self.theme_problems.append(
                _("There is no theme called '{name}': {default} is used.").format(name=theme, default=DEFAULT_THEME)
            )
            theme = DEFAULT_THEME
        self.theme = theme

    def get_css_variables(self) -> dict[str, str]:
        return header_variables(super().get_css_variables(), self.brand_color)

    @property
    def chat(self) -> ChatScreen:
        return self.get_screen("chat", ChatScreen)

    def on_mount(self) -> None:
        self.install_screen(ChatScreen(), "chat")
        self.push_screen("chat")
        if self.theme_problems:
            problems = "\n".join(self.theme_problems)  # as they are: a TOML error may hold [brackets]
            self.notify(problems, title=_("Themes"), severity="warning", timeout=20, markup=False)
        # After the first paint: validate settings and open (and migrate) the database in a thread.
        self.call_after_refresh(self.run_worker, self._start, thread=True, name="startup", exit_on_error=False)

    def _start(self) -> None:
        from mai_tui.core.context import load_context
        from mai_tui.core.errors import MaiError

        try:
            context = load_context()
            from mai_tui.core.chat.conversations import close_interrupted
            from mai_tui.core.chat.history import PURGE_AFTER, purge
            from mai_tui.core.store.types import utcnow
            from mai_tui.core.usage.billing import payer

            with context.session() as session:
                user = context.current_user(session)
                close_interrupted(session)
                purge(session, user, before=utcnow() - PURGE_AFTER)  # deleted in an earlier session
                org = payer(session, user)
                signed_in = SignedIn(context, user.name, user.role, org.name, org.timezone)
            signed_in.first_steps = self.needs_first_steps(context, signed_in.org)  # app_help.py
            self.post_message(signed_in)  # after the commit: the screens read what it wrote
        except MaiError as error:
            self.post_message(StartupFailed(str(error)))
        except Exception as error:  # never die silently in a worker: show it, log the details
            log.exception("start-up failed")
            self.post_message(StartupFailed(f"{type(error).__name__}: {error}".splitlines()[0]))

    async def on_signed_in(self, message: SignedIn) -> None:
        from mai_tui.core.providers.registry import Providers

        settings = message.context.settings
        self.context = message.context
        self.providers = Providers(settings, message.context.secrets, org=message.org)
        if settings.keymap:
            self.set_keymap(settings.keymap)
        self.chat.query_one(PromptBox).send_on_enter = settings.send_on_enter
        self.refresh_reference_names()  # for `#` completion
        self.refresh_command_names()  # for `/` completion
        self.signed_in = message
        self._signed_in_status()
        self.show_first_steps(message.first_steps)
        self.chat.query_one(ConversationList).timezone = ZoneInfo(message.timezone)
        self._header_totals()
        await self._refresh_list()
        self.run_worker(self._warm_up, thread=True, name="warm-up", exit_on_error=False)
        self.admin = message.role == "admin"
        if self.admin:  # the OpenRouter sync runs in the background of an admin's app
            self.set_timer(self.FIRST_SYNC_AFTER, self.background_sync)
            self.set_interval(settings.openrouter_usage_sync_interval, self.background_sync)

    @work(thread=True, exclusive=True, group="background-sync", exit_on_error=False)
    def background_sync(self) -> None:
        """One OpenRouter sync cycle; its result is in `mai usage status` and on the usage screen."""
        from mai_tui.core.usage.sync import run_once

        if self.context is None:
            return
        try:
            with self.context.session() as session:
                user = self.context.current_user(session)
            run_once(self.context, user)
        except Exception:  # a background nicety: logged, never a crash or a dialog
            log.exception("background usage sync failed")

    def _warm_up(self) -> None:
        """Load the default model's SDK now, while the user types, not when they press Enter."""
        from mai_tui.core.errors import MaiError
        from mai_tui.core.providers.registry import split_model

        if self.context is None or self.providers is None or not self.context.settings.default_model:
            return
        try:
            provider, _model = split_model(self.context.settings.default_model, self.context.settings)
            self.providers.get(provider).client()
        except MaiError:
            return  # a bad default model is reported when the user sends

    def _signed_in_status(self) -> None:
        if self.signed_in is not None:
            who = self.signed_in
            self.chat.set_status(_("Signed in as {name} ({role}).").format(name=who.name, role=who.role))

    def _retranslate(self) -> None:
        """The language changed: redraw what the app drew in the old one."""
        self.chat.retranslate()
        self._signed_in_status()
        self.show_first_steps(self.first_steps)
        self._header_totals()

    def on_startup_failed(self, message: StartupFailed) -> None:
        self.chat.set_status(_("Cannot start: {reason}").format(reason=message.reason))
        self.notify(message.reason, title=_("Start-up"), severity="error", timeout=30)

    def _header_totals(self) -> None:
        """Header: the model in use and what this conversation has cost so far."""
        from mai_tui.core.chat.turns import total_cost
        from mai_tui.core.formats import money

        if self.context is None:
            return
        model = self.model or self.context.settings.default_model or _("no model chosen (set default_model)")
        cost: Any = 0
        if self.conversation_id is not None:
            with self.context.session(write=False) as session:
                cost = total_cost(session, self.conversation_id)
        self.sub_title = f"{model} · {money(cost)}" if cost else model

    # --- intents from the chat screen ---------------------------------------------------
    def on_prompt_box_submitted(self, message: PromptBox.Submitted) -> None:
        from mai_tui.core.chat.turns import prepare_turn

        if self.context is None or self._answering():
            busy = _("An answer is being written: Esc stops it.") if self.context else _("Still starting up…")
            self.notify(busy, severity="warning")
            self.chat.query_one(PromptBox).load_text(message.text)
            return
        if self.saved_prompt(message):  # `/command`: a saved prompt, filled in first (chat_prompts.py)
            return
        context, conversation_id, edit_of, model = self.context, self.conversation_id, self.editing, self.model
        pending, over, preset_id = self.pending, self._take_over_budget(), self.preset_id
        self.editing = None
        self.searching(message.text)
        self.run_turn(
            lambda: self.with_sources(  # `#collection` / `#file`: search first, in the worker
                context,
                message.text,
                lambda retrieved: prepare_turn(
                    context,
                    message.text,
                    conversation_id=conversation_id,
                    edit_of=edit_of,
                    model=model,
                    system=pending.system_prompt,
                    temperature=pending.temperature,
                    max_tokens=pending.max_tokens,
                    override_budget=over,
                    retrieved=retrieved,
                    preset_id=preset_id,  # a new conversation from a preset (chat_models.py)
                ),
                conversation_id=conversation_id,  # its collection is searched for prompts without `#`
                preset_id=preset_id,
            ),
            take_back=message.text,
            redraw=edit_of is not None,
        )

    def on_chat_screen_stop(self) -> None:
        if self.voice_state != "idle":  # Esc stops the recording (or transcription) first, the answer after
            self._voice_escape()
            return
        if self.editing is not None and not self.workers:
            self.editing = None
            self.chat.query_one(PromptBox).clear()
            self.chat.set_notice("")
        self.workers.cancel_group(self, "answer")

    async def on_chat_screen_new_chat(self) -> None:
        self.workers.cancel_group(self, "answer")
        self.conversation_id = None
        self.editing = None
        self.model = None
        self.pending = Parameters()
        await self.chat.show_tree(None)
        self.chat.set_notice("")
        self._header_totals()

    def _answering(self) -> bool:
        return any(worker.group == "answer" and not worker.is_finished for worker in self.workers)

    async def on_chat_screen_open(self, message: ChatScreen.Open) -> None:
        from mai_tui.core.chat import tree as trees
        from mai_tui.core.errors import MaiError

        if self.context is None:
            return
        try:
            with self.context.session(write=False) as session:
                tree = trees.load(session, message.conversation_id)
        except MaiError as error:  # e.g. deleted meanwhile
            self.notify(str(error), severity="warning")
            await self._refresh_list()
            return
        self.conversation_id = message.conversation_id
        self.model = tree.conversation.model
        await self.chat.show_tree(tree)
        self._header_totals()

    async def on_chat_screen_intent(self, message: ChatScreen.Intent) -> None:
        from mai_tui.core.chat import tree as trees
        from mai_tui.core.chat import turns

        context, conversation_id = self.context, self.conversation_id
        if message.name == "voice":
            self.toggle_voice()
            return
        if message.name == "language":  # palette "Language" (app_language.py)
            self.pick_language(self._retranslate)
            return
        if context is not None and message.name == "model":
            self._pick_model()
            return
        if context is not None and message.name == "parameters":
            self._edit_parameters()
            return
        if message.name == "sources":  # the last answer's sources (Ctrl+O, palette "Sources")
            self.open_sources()
            return
        if message.name == "usage":  # the usage screen (F3, palette "Usage")
            self._open_usage()
            return
        if message.name == "knowledge":  # the knowledge screen (F5, palette "Knowledge")
            self._open_knowledge()
            return
        if message.name == "compare":  # the prompt to 2–3 models side by side (F7, palette "Compare models")
            self.start_compare()
            return
        if message.name in ("models", "preset"):  # the models screen (F6, palette "Models", "New chat with preset")
            self.open_models("presets" if message.name == "preset" else "models")
            return
        if message.name in ("export", "import"):  # a conversation to a file, or conversations from one
            self.export_conversation(conversation_id) if message.name == "export" else self.import_conversations()
            return
        if message.name == "prompts":  # the prompt library (palette "Prompts")
            self.open_prompts()
            return
        if message.name == "settings":  # the settings screen (F9, palette "Settings"; app_settings.py)
            self.open_settings()
            return
        if context is None or conversation_id is None:
            return
        model = self.model
        if message.name in ("regenerate", "continue") and self._answering():
            self.notify(_("An answer is being written: Esc stops it."), severity="warning")
            return
        if message.name == "regenerate":
            over = self._take_over_budget()
            self.run_turn(
                lambda: turns.prepare_regenerate(context, conversation_id, model=model, override_budget=over),
                redraw=True,
            )
        elif message.name == "continue":
            over = self._take_over_budget()
            self.run_turn(
                lambda: turns.prepare_continue(context, conversation_id, model=model, override_budget=over),
                redraw=True,
            )
        elif message.name in ("previous_branch", "next_branch"):
            tree = turns.switch(context, conversation_id, -1 if message.name == "previous_branch" else 1)
            if tree is not None:
                await self.chat.show_tree(tree)
        elif message.name in ("edit", "copy", "copy_code"):
            with context.session(write=False) as session:
                path = trees.load(session, conversation_id).path()
            role = "user" if message.name == "edit" else "assistant"
            last = next((m for m in reversed(path) if m.role == role), None)
            if last is None:
                return
            if message.name == "copy":
                self.copy_to_clipboard(last.content)  # OSC 52: works over SSH too
                self.notify(_("Answer copied."))
            elif message.name == "copy_code":
                blocks = code_blocks(last.content)
                if blocks:
                    self.copy_to_clipboard(blocks[-1])
                    self.notify(_("Code block copied."))
                else:
                    self.notify(_("The last answer has no code block."), severity="warning")
            else:
                self.editing = last.id
                self.chat.query_one(PromptBox).load_text(last.content)
                self.chat.set_notice(_("Editing your last prompt: Enter sends it as a new branch, Esc cancels."))

    def _pick_model(self) -> None:
        from mai_tui.core.providers import catalogue

        assert self.context is not None
        with self.context.session(write=False) as session:
            models = [entry.id for entry in catalogue.cached(session)]
        current = self.model or self.context.settings.default_model
        if current and current not in models:
            models.insert(0, current)

        def chosen(model: str | None) -> None:
            if model:
                self.model = model
                self._remember_model(model)
                self._header_totals()

        self.push_screen(ModelPicker(models, current), chosen)

    def _open_usage(self) -> None:
        from mai_tui.core.errors import MaiError
        from mai_tui.tui.screens.usage import UsageScreen  # loads the database layer: not before the first frame

        if self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
            return
        try:
            screen = UsageScreen(self.context)  # reads who is looking and which orgs they may see
        except MaiError as error:
            self.notify(str(error), severity="error")
            return
        self.push_screen(screen)

    def _open_knowledge(self) -> None:
        from mai_tui.tui.screens.knowledge import KnowledgeScreen  # loads the knowledge base: only when asked

        if self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
            return
        self.push_screen(KnowledgeScreen(self.context))

    def _edit_parameters(self) -> None:
        from mai_tui.core.chat import turns

        context, conversation_id = self.context, self.conversation_id
        assert context is not None
        current = turns.get_parameters(context, conversation_id) if conversation_id is not None else self.pending

        def saved(parameters: Parameters | None) -> None:
            if parameters is None:
                return
            if conversation_id is None:
                self.pending = parameters
            else:
                turns.set_parameters(context, conversation_id, parameters)
            self.notify(_("Saved: used from the next message on."))

        self.push_screen(ParametersScreen(current), saved)

    def _remember_model(self, model: str) -> None:
        from mai_tui.core.store.models import Conversation

        if self.context is None or self.conversation_id is None:
            return
        with self.context.session() as session:
            conversation = session.get(Conversation, self.conversation_id)
            if conversation is not None:
                conversation.model = model
                session.add(conversation)

    async def on_prompt_box_editor_requested(self, message: PromptBox.EditorRequested) -> None:
        """Hand the terminal to $EDITOR; the edited text comes back into the prompt box."""
        from mai_tui.core.editor import edit_text
        from mai_tui.core.errors import MaiError

        box = self.chat.query_one(PromptBox)
        try:
            with self.suspend():
                text = edit_text(message.text)
        except MaiError as error:
            self.notify(str(error), severity="error")
            return
        except SuspendNotSupported:
            self.notify(_("This terminal cannot hand over to an editor."), severity="warning")
            return
        box.load_text(text)
        box.focus()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every chat action is in the command palette (Ctrl+P) too."""
        yield from super().get_system_commands(screen)
        if isinstance(screen, ChatScreen):
            for title, help_text, action in screen.commands():
                yield SystemCommand(title, help_text, action)
            if self.admin:
                yield SystemCommand(
                    _("Send over the limit"),
                    _("Admin: the next message goes out even if the organization is past its monthly limit"),
                    self.allow_over_budget,
                )

    def allow_over_budget(self) -> None:
        self.over_budget = True
        self.notify(_("The next message will be sent even past the monthly limit."), severity="warning")

    def _take_over_budget(self) -> bool:
        """An admin's permission to go over the limit holds for one message."""
        over, self.over_budget = self.over_budget, False
        return over
