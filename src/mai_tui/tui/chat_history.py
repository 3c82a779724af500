"""The conversation list in the app: searching as the user types, paging, and organising
(rename, pin, archive, tags, folder, delete with undo while the app is open).

Reads run in a thread (a search over a large history takes milliseconds, not a frame); a
newer search cancels the one still running. Deleted conversations are purged for good at
the next start, so `u` can bring them back until then.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.css.query import NoMatches

from mai_tui.i18n import _, ngettext
from mai_tui.tui.screens.dialogs import ConfirmDialog, TextDialog
from mai_tui.tui.widgets.conversations import ConversationList, ConversationOptions

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sqlmodel import Session

    from mai_tui.core.chat.history import Listed
    from mai_tui.core.context import AppContext
    from mai_tui.core.store.models import User
    from mai_tui.tui.screens.chat import ChatScreen

log = logging.getLogger(__name__)


class ChatHistory(App[None]):
    """The app's conversation list; `MaiApp` provides `chat`, `context` and `conversation_id`."""

    context: AppContext | None
    conversation_id: int | None

    if TYPE_CHECKING:  # the app that includes this defines them

        @property
        def chat(self) -> ChatScreen: ...

    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[int] = []  # this session's deletions, newest last (`u` undoes them)

    def _shown_list(self) -> ConversationList | None:
        """The chat screen's list; None once the app is closing and the screen is gone (a read
        that was under way when the user quit has nowhere to go)."""
        try:
            shown = self.chat.query_one(ConversationList)
            shown.query_one(ConversationOptions)
        except (KeyError, NoMatches):
            return None
        return shown

    async def _refresh_list(self) -> None:
        """Read the first page again for what the search box holds (after any change)."""
        shown = self._shown_list()
        if shown is None:
            return
        try:
            page = await asyncio.to_thread(self._page, shown.text, 0)
        except Exception as error:  # a bad filter (e.g. pinned:maybe) is said, not raised
            self._search_failed(error)
            return
        if page is not None and self._shown_list() is not None:
            self.chat.list_conversations(page[0], self.conversation_id, more=page[1])

    def _page(self, text: str, offset: int) -> tuple[list[Listed], bool] | None:
        from mai_tui.core.chat import history

        if self.context is None:
            return None
        with self.context.session(write=False) as session:
            user = self.context.current_user(session)
            found = history.find(session, user, text, limit=history.PAGE + 1, offset=offset)
        return found[: history.PAGE], len(found) > history.PAGE

    def _search_failed(self, error: Exception) -> None:
        from mai_tui.core.errors import MaiError

        if not isinstance(error, MaiError):
            log.error("reading the conversation list failed", exc_info=error)
        if self._shown_list() is None:
            return
        self.chat.list_conversations([], None)
        self.notify(str(error), severity="warning")

    @work(exclusive=True, group="chat-search", exit_on_error=False)
    async def on_conversation_list_search(self, message: ConversationList.Search) -> None:
        await self._refresh_list()  # a newer key press cancels this one while it reads

    @work(exclusive=True, group="chat-search", exit_on_error=False)
    async def on_conversation_list_more(self, message: ConversationList.More) -> None:
        try:
            page = await asyncio.to_thread(self._page, message.text, message.offset)
        except Exception as error:
            self._search_failed(error)
            return
        if page is not None and self._shown_list() is not None:
            self.chat.list_conversations(page[0], None, append=True, more=page[1])

    def on_conversation_list_act(self, message: ConversationList.Act) -> None:
        if self.context is None:
            return
        listed = self.chat.query_one(ConversationList).highlighted
        target = message.conversation_id
        if message.name == "undo":
            self._undo()
        elif target is None or listed is None:
            return
        elif message.name == "rename":
            self._ask(
                TextDialog(_("New title"), listed.title, _("Rename")), lambda t: partial(_rename, title=t, id=target)
            )
        elif message.name == "tags":
            dialog = TextDialog(_("Tags, separated by commas or spaces"), ", ".join(listed.tags), _("Save"))
            self._ask(dialog, lambda tags: partial(_tag, tags=tags, id=target), empty=True)
        elif message.name == "folder":
            dialog = TextDialog(_("Folder (empty: none)"), listed.folder or "", _("Save"))
            self._ask(dialog, lambda folder: partial(_file, folder=folder, id=target), empty=True)
        elif message.name == "pin":
            self._change(lambda s, u: _pin(s, u, target, not listed.pinned))
        elif message.name == "archive":
            if self._change(lambda s, u: _archive(s, u, target, not listed.archived)):
                self.notify(_("Unarchived.") if listed.archived else _("Archived: search archived:true to see it."))
        elif message.name == "delete":
            question = _("Delete “{title}”? (u brings it back until you quit)").format(title=listed.title)
            self.push_screen(ConfirmDialog(question, _("Delete")), lambda yes: self._delete(target) if yes else None)
        elif message.name == "export":
            self.export_conversation(target)

    def _ask(
        self, dialog: TextDialog, change: Callable[[str], Callable[[Session, User], object]], *, empty: bool = False
    ) -> None:
        """Ask for one line of text, then make the change with it (Esc: nothing; empty only if allowed)."""

        def answered(value: str | None) -> None:
            if value is not None and (value.strip() or empty):
                self._change(change(value))

        self.push_screen(dialog, answered)

    def export_conversation(self, conversation_id: int | None) -> None:
        """Ask where, write it there (Markdown or JSON), say where it went."""
        from mai_tui.tui.screens.export_dialog import ExportDialog

        if self.context is None or conversation_id is None:
            self.notify(_("Open a conversation first."), severity="warning")
            return

        def written(path: Path | None) -> None:
            if path is not None:
                self.notify(_("Exported to {path}").format(path=path))

        self.push_screen(ExportDialog(conversation_id, self.context), written)

    def import_conversations(self) -> None:
        from mai_tui.tui.screens.export_dialog import ImportDialog

        if self.context is None:
            self.notify(_("Still starting up…"), severity="warning")
            return

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._import(path)

        self.push_screen(ImportDialog(), chosen)

    @work(exclusive=True, group="import", exit_on_error=False)
    async def _import(self, path: Path) -> None:
        from mai_tui.core.chat.transfer import import_file
        from mai_tui.core.errors import MaiError

        context = self.context
        assert context is not None
        warnings: list[str] = []

        def run() -> list[int]:
            with context.session() as session:
                return import_file(session, path, context.current_user(session), warn=warnings.append)

        try:
            created = await asyncio.to_thread(run)
        except MaiError as error:
            self.notify(str(error), title=_("Nothing imported"), severity="error", timeout=15)
            return
        except Exception as error:  # a safety net: the core turns a bad file into InvalidInput
            log.error("importing %s failed", path, exc_info=error)
            problem = " ".join(str(error).split()[:40])[:200] or type(error).__name__
            self.notify(_("Nothing imported: {problem}").format(problem=problem), severity="error", timeout=15)
            return
        for warning in warnings:
            self.notify(warning, severity="warning", timeout=10)
        self.notify(
            ngettext("{n} conversation imported.", "{n} conversations imported.", len(created)).format(n=len(created))
        )
        await self._refresh_list()

    def _change(self, change: Callable[[Session, User], object]) -> bool:
        """Apply one change in a write session; False (and a message) when it was refused."""
        from sqlalchemy.exc import SQLAlchemyError

        from mai_tui.core.errors import MaiError

        assert self.context is not None
        try:
            with self.context.session() as session:
                change(session, self.context.current_user(session))
        except MaiError as error:
            self.notify(str(error), severity="error")
            return False
        except SQLAlchemyError as error:  # e.g. the database is locked by a long write elsewhere
            log.error("changing a conversation failed", exc_info=error)
            message = _("The database refused the change: {error}").format(error=error.__class__.__name__)
            self.notify(message, severity="error")
            return False
        self.run_worker(self._refresh_list(), group="chat-search", exclusive=True, exit_on_error=False)
        return True

    def _delete(self, conversation_id: int) -> None:
        from mai_tui.core.chat import history

        if not self._change(lambda s, u: history.delete_conversation(s, u, conversation_id)):
            return
        self.deleted.append(conversation_id)
        self.notify(_("Deleted. Press u in the list to bring it back."))
        if self.conversation_id == conversation_id:  # as Ctrl+N: a new chat, no preset carried over
            self.chat.post_message(self.chat.NewChat())

    def _undo(self) -> None:
        from mai_tui.core.chat import history

        if not self.deleted:
            self.notify(_("Nothing to bring back."), severity="warning")
            return
        conversation_id = self.deleted.pop()
        if self._change(lambda s, u: history.restore(s, u, conversation_id)):
            self.notify(_("Brought back."))


def _rename(session: Session, user: User, *, id: int, title: str) -> object:
    from mai_tui.core.chat import history

    return history.rename(session, user, id, title)


def _tag(session: Session, user: User, *, id: int, tags: str) -> object:
    from mai_tui.core.chat import history

    return history.set_tags(session, user, id, history.parse_tags(tags))


def _file(session: Session, user: User, *, id: int, folder: str) -> object:
    from mai_tui.core.chat import history

    return history.set_folder(session, user, id, folder)


def _pin(session: Session, user: User, conversation_id: int, pinned: bool) -> object:
    from mai_tui.core.chat import history

    return history.set_pinned(session, user, conversation_id, pinned)


def _archive(session: Session, user: User, conversation_id: int, archived: bool) -> object:
    from mai_tui.core.chat import history

    return history.set_archived(session, user, conversation_id, archived)
