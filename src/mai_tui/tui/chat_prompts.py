"""Saved prompts in the chat: `/command` completion, filling a prompt's `{{placeholders}}`
before it goes out, and the screen that manages the library.

A prompt sent as `/command …` is looked up when it is sent (a quick indexed read). What was
typed after the command follows the rule of `core.chat.prompts.Invocation`: appended to a
prompt without placeholders, the value of a prompt's only placeholder (sent at once), or the
first value of the form that asks for several. The filled text then goes out as any prompt.
An unknown `/word` is an ordinary message. Nothing heavy is imported at module level.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from mai_tui.i18n import _
from mai_tui.tui.widgets.prompt import PromptBox

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.tui.screens.chat import ChatScreen

log = logging.getLogger(__name__)


class ChatPrompts(App[None]):
    """The app's prompt library; `MaiApp` provides `chat` and `context`."""

    context: AppContext | None

    if TYPE_CHECKING:  # the app that includes this defines it

        @property
        def chat(self) -> ChatScreen: ...

    def on_prompt_box_names_wanted(self) -> None:
        self.refresh_command_names()

    @work(thread=True, exclusive=True, group="command-names", exit_on_error=False)
    def refresh_command_names(self) -> None:
        """Read the saved prompts' commands for `/` completion (off the UI thread)."""
        from mai_tui.core.chat.prompts import all_prompts

        if self.context is None:
            return
        try:
            with self.context.session(write=False) as session:
                names = [(prompt.command, prompt.title) for prompt in all_prompts(session)]
        except Exception:  # completion is a nicety: the prompt still works without it
            log.exception("reading the saved prompts for / completion failed")
            return
        self.call_from_thread(self.chat.query_one(PromptBox).set_command_names, names)

    def saved_prompt(self, message: PromptBox.Submitted) -> bool:
        """Whether `message` calls a saved prompt; if so it is sent filled in, at once or after
        the form (Esc there puts the typed text back in the box)."""
        if message.filled or self.context is None or not message.text.startswith("/"):
            return False
        from mai_tui.core.chat.prompts import expand, find, invoked_command
        from mai_tui.core.errors import MaiError

        command = invoked_command(message.text)
        if command is None:
            return False
        try:
            with self.context.session(write=False) as session:
                prompt = find(session, command)
                invocation = expand(message.text, [prompt]) if prompt is not None else None
            ready = invocation.ready() if invocation is not None else None
        except Exception as error:  # e.g. the database went away: say so, and keep what was typed
            reason = str(error)
            if not isinstance(error, MaiError):
                log.exception("looking up a saved prompt failed")
                reason = f"{type(error).__name__}: {error}".splitlines()[0]
            self.notify(reason, severity="error", markup=False)
            self.chat.query_one(PromptBox).load_text(message.text)
            return True
        if invocation is None:
            return False  # not a saved prompt: an ordinary message
        if ready is not None:
            self.post_message(PromptBox.Submitted(ready, filled=True))
            return True
        from mai_tui.tui.screens.prompt_form import PromptForm

        typed = message.text

        def filled(text: str | None) -> None:
            box = self.chat.query_one(PromptBox)
            if text is None:  # cancelled: what was typed comes back
                box.load_text(typed)
                box.move_cursor(box.document.end)
            else:
                self.post_message(PromptBox.Submitted(text, filled=True))
            box.focus()

        self.push_screen(PromptForm(invocation), filled)
        return True

    def open_prompts(self) -> None:
        """The prompt library: add, edit and delete saved prompts (palette "Prompts")."""
        from mai_tui.tui.screens.prompts import PromptsScreen

        if self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
            return

        def closed(_result: None) -> None:
            self.refresh_command_names()  # the library may have changed

        self.push_screen(PromptsScreen(self.context), closed)
