"""The conversation list beside the chat: a search box over a page of conversations.

Typing searches titles and messages as you type (`tag:` `folder:` `pinned:` `archived:`
filter). In the list: Enter opens, `r` renames, `p` pins, `a` archives, `t` tags, `f` files
into a folder, Delete deletes (after a confirmation) and `u` brings the last deleted back.
The widget only shows and asks; the app does the work and calls `show` with the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mai_tui.core.chat.sanitize import inert
from mai_tui.i18n import _
from mai_tui.tui.bidi import visual, visual_fields

if TYPE_CHECKING:
    from mai_tui.core.chat.history import Listed

ACTIONS = ("rename", "pin", "archive", "tags", "folder", "delete", "undo", "export")


class ConversationOptions(OptionList):
    """The list itself; its keys act on the highlighted conversation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "act('rename')", _("Rename"), id="chats.rename"),
        Binding("p", "act('pin')", _("Pin"), id="chats.pin"),
        Binding("a", "act('archive')", _("Archive"), id="chats.archive"),
        Binding("t", "act('tags')", _("Tags"), id="chats.tags"),
        Binding("f", "act('folder')", _("Folder"), id="chats.folder"),
        Binding("delete,d", "act('delete')", _("Delete"), id="chats.delete"),
        Binding("u", "act('undo')", _("Undo delete"), id="chats.undo"),
        Binding("x", "act('export')", _("Export"), id="chats.export", show=False),
        Binding("slash", "search", _("Search"), id="chats.search", show=False),
    ]

    def action_act(self, name: str) -> None:
        parent = self.parent
        if isinstance(parent, ConversationList):
            parent.act(name)

    def action_search(self) -> None:
        if isinstance(self.parent, ConversationList):
            self.parent.query_one(Input).focus()


class ConversationList(Vertical):
    """Search box, list, and a line saying what is shown."""

    @dataclass
    class Search(Message):
        """The search box changed: the app reads the first page for `text`."""

        text: str

    @dataclass
    class More(Message):
        """The cursor reached the end of the page: the app reads the next one."""

        text: str
        offset: int

    @dataclass
    class Open(Message):
        conversation_id: int

    @dataclass
    class Act(Message):
        """rename, pin, archive, tags, folder, delete, undo or export on a conversation."""

        name: str
        conversation_id: int | None

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.listed: list[Listed] = []
        self.more = False  # another page may follow
        self.timezone: tzinfo = UTC  # dates shown in the org's timezone

    def compose(self) -> ComposeResult:
        yield Input(placeholder=visual(_("Search chats…")), id="chat-search")
        yield ConversationOptions(id="chat-list")
        yield Static("", id="chat-count")

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    @property
    def highlighted(self) -> Listed | None:
        options = self.query_one(ConversationOptions)
        index = options.highlighted
        return self.listed[index] if index is not None and 0 <= index < len(self.listed) else None

    def show(self, listed: list[Listed], current: int | None, *, append: bool = False, more: bool = False) -> None:
        """A page of conversations (or the next page, `append`), keeping the cursor on `current`."""
        options = self.query_one(ConversationOptions)
        keep = options.highlighted if append else None
        if not append:
            self.listed = []
            options.clear_options()
        self.listed += listed
        self.more = more
        now = datetime.now(UTC)
        options.add_options(Option(self._line(item, now), id=str(item.id)) for item in listed)
        if keep is not None:
            options.highlighted = keep
        else:
            ids = [item.id for item in self.listed]
            if self.text.strip():  # search results: the best one first
                current = None
            options.highlighted = ids.index(current) if current in ids else (0 if ids else None)
        self._count()

    def retranslate(self) -> None:
        """The list's texts again, in the language just chosen."""
        self.query_one(Input).placeholder = visual(_("Search chats…"))
        if self.listed:
            current = self.highlighted
            self.show(list(self.listed), current.id if current else None, more=self.more)
        else:
            self._count()

    def _count(self) -> None:
        shown = len(self.listed)
        if self.text.strip():
            line = _("{n} found").format(n=f"{shown}+" if self.more else shown) if shown else _("Nothing found")
        else:
            line = "" if shown else _("No conversations yet")
        self.query_one("#chat-count", Static).update(visual(line))

    def _line(self, item: Listed, now: datetime) -> Text:
        """Two lines, each cut to the list's width: the title, then when · folder · tags."""
        width = max(10, (self.size.width or 32) - 3)
        title = Text(("★ " if item.pinned else "") + inert(item.title))
        title.truncate(width, overflow="ellipsis")
        title = Text(visual(title.plain))  # cut in reading order, then put in display order
        meta = [self._when(item.updated_at, now)]
        if item.folder:
            meta.append("▸" + item.folder)
        meta += ["#" + tag for tag in item.tags]
        second = Text(" · ".join(meta), style="dim")
        second.truncate(width, overflow="ellipsis")
        second = Text(visual_fields(second.plain), style="dim")
        return Text("\n").join([title, second])

    def _when(self, when: datetime, now: datetime) -> str:
        seconds = (now - when).total_seconds()
        if seconds < 60:
            return _("just now")
        if seconds < 3600:
            return _("{n} min ago").format(n=int(seconds // 60))
        if seconds < 86400:
            return _("{n} h ago").format(n=int(seconds // 3600))
        from mai_tui.core.formats import date  # Babel: not needed for the first frame

        return date(when.astimezone(self.timezone).date())

    def act(self, name: str) -> None:
        item = self.highlighted
        if name == "undo" or item is not None:
            self.post_message(self.Act(name, item.id if item is not None else None))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Search(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(ConversationOptions).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Open(int(event.option.id)))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self.more and event.option_index >= len(self.listed) - 1:
            self.more = False  # asked once; the next page says whether there is more
            self.post_message(self.More(self.text, len(self.listed)))
