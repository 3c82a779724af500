"""The conversation list: search as you type, filters, paging, rename, pin, archive, tags,
folder, delete with confirmation and undo, opening a conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Input

from mai_tui.core.chat import history
from mai_tui.core.context import load_context
from mai_tui.core.store.models import ChatMessage, Conversation, User
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.dialogs import ConfirmDialog, TextDialog
from mai_tui.tui.widgets.conversations import ConversationList, ConversationOptions
from mai_tui.tui.widgets.message import MessageView
from tests.tui.helpers import steady_cursor, wait_until

DAY = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"


def seed(*chats: tuple[str, list[str]]) -> list[int]:
    """Conversations (title, messages), the first the most recent; dates fixed for snapshots."""
    context = load_context()
    ids = []
    with context.session() as session:
        user = context.current_user(session)
        for age, (title, texts) in enumerate(chats):
            conversation = Conversation(title=title, user_id=user.id, updated_at=DAY - timedelta(days=age))
            session.add(conversation)
            session.flush()
            parent = None
            for index, content in enumerate(texts):
                message = ChatMessage(
                    conversation_id=conversation.id or 0,
                    parent_id=parent,
                    role="user" if index % 2 == 0 else "assistant",
                    content=content,
                )
                session.add(message)
                session.flush()
                parent = message.id
            conversation.current_leaf_id = parent
            ids.append(conversation.id or 0)
    return ids


CHATS = (
    ("Kubernetes pods restarting", ["my pods restart every hour", "Check the liveness probe first."]),
    ("Sourdough starter", ["how often do I feed it", "Once a day at room temperature."]),
    ("Trip to Lisbon", ["three days in Lisbon", "Start in Alfama; the pods of tourists thin out by evening."]),
)


def titles(app: MaiApp) -> list[str]:
    return [item.title for item in app.chat.query_one(ConversationList).listed]


async def started(pilot: Pilot[Any], count: int) -> MaiApp:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None and len(titles(app)) == count)
    return app


async def search(pilot: Pilot[Any], text: str) -> None:
    box = pilot.app.screen.query_one("#chat-search", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text) if text else None
    await pilot.pause()


async def test_search_as_you_type_with_filters() -> None:
    ids = seed(*CHATS)
    with load_context().session() as session:
        user = session.exec(select(User)).one()
        history.set_tags(session, user, ids[0], ["work"])
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot, 3)
        assert titles(app) == [c[0] for c in CHATS]
        await search(pilot, "pod")
        await wait_until(pilot, lambda: titles(app) == ["Kubernetes pods restarting", "Trip to Lisbon"])
        await search(pilot, "pods tag:work")
        await wait_until(pilot, lambda: titles(app) == ["Kubernetes pods restarting"])
        await search(pilot, "alfama")
        await wait_until(pilot, lambda: titles(app) == ["Trip to Lisbon"])
        await search(pilot, "nothing like this")
        await wait_until(pilot, lambda: titles(app) == [])
        assert "Nothing found" in str(app.chat.query_one("#chat-count").render())
        await search(pilot, "pinned:may")  # being typed: no complaint yet
        await pilot.pause()
        assert not any("pinned" in n.message for n in app._notifications)
        await search(pilot, "pinned:maybe ")  # a bad filter is said, the app carries on
        await wait_until(pilot, lambda: any("pinned" in n.message for n in app._notifications))
        await search(pilot, "")
        await wait_until(pilot, lambda: len(titles(app)) == 3)


async def test_enter_opens_the_conversation() -> None:
    seed(*CHATS)
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot, 3)
        await search(pilot, "sourdough")
        await wait_until(pilot, lambda: titles(app) == ["Sourdough starter"])
        await pilot.press("enter")  # from the search box into the list
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.chat.query(MessageView)) == 2)
        assert "Once a day" in app.chat.query(MessageView).last().message.content


async def test_rename_pin_tags_folder_and_archive_from_the_list() -> None:
    ids = seed(*CHATS)
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot, 3)
        options = app.chat.query_one(ConversationOptions)
        options.focus()
        options.highlighted = 2  # Trip to Lisbon
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, TextDialog))
        app.screen.query_one(Input).value = "Lisbon, three days"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Lisbon, three days" in titles(app))
        options.highlighted = titles(app).index("Lisbon, three days")
        await pilot.press("p")
        await wait_until(pilot, lambda: titles(app)[0] == "Lisbon, three days")
        options.highlighted = 0
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TextDialog))
        app.screen.query_one(Input).value = "travel, #Portugal"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.chat.query_one(ConversationList).listed[0].tags == ["portugal", "travel"])
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, TextDialog))
        app.screen.query_one(Input).value = "Holidays"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.chat.query_one(ConversationList).listed[0].folder == "Holidays")
        await pilot.press("a")
        await wait_until(pilot, lambda: "Lisbon, three days" not in titles(app))
        await search(pilot, "archived:true")
        await wait_until(pilot, lambda: titles(app) == ["Lisbon, three days"])
    with load_context().session(write=False) as session:
        trip = session.get(Conversation, ids[2])
        assert trip is not None
        assert (trip.title, trip.pinned, trip.archived, trip.folder) == ("Lisbon, three days", True, True, "Holidays")
        assert history.tags_of(session, ids[2]) == ["portugal", "travel"]


async def test_delete_asks_first_and_u_brings_it_back() -> None:
    ids = seed(*CHATS)
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot, 3)
        options = app.chat.query_one(ConversationOptions)
        options.focus()
        options.highlighted = 1
        await pilot.press("enter")  # open it: deleting the open chat starts a new one
        await wait_until(pilot, lambda: app.conversation_id == ids[1])
        app.preset_id = 7  # as if it had been started from a preset
        options.focus()
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")  # changed their mind
        await pilot.pause()
        assert len(titles(app)) == 3
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: titles(app) == ["Kubernetes pods restarting", "Trip to Lisbon"])
        await wait_until(pilot, lambda: app.conversation_id is None)
        assert app.preset_id is None  # the next chat is a plain one
        options.focus()
        with load_context().session(write=False) as session:
            deleted = session.get(Conversation, ids[1])
            assert deleted is not None
            assert deleted.deleted_at is not None  # restorable until purged
        await pilot.press("u")
        await wait_until(pilot, lambda: len(titles(app)) == 3)
    with load_context().session(write=False) as session:
        restored = session.get(Conversation, ids[1])
        assert restored is not None
        assert restored.deleted_at is None


async def test_deleting_then_quitting_purges_at_the_next_start_after_an_hour() -> None:
    ids = seed(*CHATS)
    with load_context().session() as session:
        user = session.exec(select(User)).one()
        history.delete_conversation(session, user, ids[0])
        gone = session.get(Conversation, ids[0])
        assert gone is not None
        gone.deleted_at = DAY  # long ago
        session.add(gone)
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot, 2)
    with load_context().session(write=False) as session:
        assert session.get(Conversation, ids[0]) is None


async def test_a_long_history_comes_in_pages() -> None:
    seed(*((f"Chat number {n}", ["hello", "hi"]) for n in range(150)))
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot, history.PAGE)
        options = app.chat.query_one(ConversationOptions)
        options.focus()
        await pilot.press("end")
        await wait_until(pilot, lambda: len(titles(app)) == 150)
        assert titles(app)[-1] == "Chat number 149"
        assert options.highlighted == history.PAGE - 1  # the cursor stays where it was


def test_conversation_list_snapshot(snap_compare: Any) -> None:
    ids = seed(*CHATS)
    with load_context().session() as session:
        user = session.exec(select(User)).one()
        history.set_tags(session, user, ids[0], ["work", "k8s"])
        history.set_folder(session, user, ids[0], "Ops")
        history.set_pinned(session, user, ids[1], True)

    async def run_before(pilot: Pilot[Any]) -> None:
        app = await started(pilot, 3)
        await search(pilot, "pod")
        await wait_until(pilot, lambda: len(titles(app)) == 2)
        steady_cursor(app)
        app.screen.query_one("#chat-search", Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(120, 30), run_before=run_before)


async def test_export_from_the_list_and_import_from_the_palette(tmp_path: Path) -> None:
    from mai_tui.tui.screens.export_dialog import ExportDialog, ImportDialog

    seed(*CHATS)
    app = MaiApp()
    target = tmp_path / "lisbon.md"
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot, 3)
        options = app.chat.query_one(ConversationOptions)
        options.focus()
        options.highlighted = 2
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, target.exists)
        assert "# Trip to Lisbon" in target.read_text(encoding="utf-8")
        app.chat.action_intent("import")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportDialog))
        app.screen.query_one("#import-path", Input).value = str(EXPORTS / "chatgpt-conversations.json")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(titles(app)) > 3)
        bad = tmp_path / "bad.json"
        bad.write_text('{"not": "an export"', encoding="utf-8")
        app.chat.action_intent("import")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportDialog))
        app.screen.query_one("#import-path", Input).value = str(bad)
        before = len(titles(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("bad.json" in n.message for n in app._notifications))
        assert len(titles(app)) == before
