"""`mai chats list|show|search` through the real entry point."""

from __future__ import annotations

from sqlmodel import select

from mai_tui.core.chat import history
from mai_tui.core.context import load_context
from mai_tui.core.store.models import User
from tests.cli.conftest import Mai
from tests.tui.test_history import CHATS, seed


def test_list_search_and_show(mai: Mai) -> None:
    ids = seed(*CHATS)
    with load_context().session() as session:
        user = session.exec(select(User)).one()
        history.set_tags(session, user, ids[2], ["travel"])
        history.set_archived(session, user, ids[1], True)
    listed = mai("chats", "list", "--json").json()
    assert [(c["id"], c["title"], c["messages"]) for c in listed] == [
        (ids[0], "Kubernetes pods restarting", 2),
        (ids[2], "Trip to Lisbon", 2),
    ]
    assert set(listed[0]) >= {"id", "title", "updated_at", "model", "messages", "cost_usd"}
    assert listed[0]["cost_usd"] == "0"
    assert [c["title"] for c in mai("chats", "list", "--archived", "--json").json()] == ["Sourdough starter"]
    assert [c["title"] for c in mai("chats", "search", "pods", "--json").json()] == [
        "Kubernetes pods restarting",
        "Trip to Lisbon",
    ]
    assert [c["title"] for c in mai("chats", "search", "pods tag:travel", "--json").json()] == ["Trip to Lisbon"]
    assert mai("chats", "search", "pod", "--json").json() == []  # whole words on the command line
    table = mai("chats", "search", "liveness")
    assert table.code == 0
    assert "Kubernetes pods restarting" in table.out
    assert "Nothing found" in mai("chats", "search", "zebra").out
    shown = mai("chats", "show", str(ids[0]))
    assert shown.code == 0
    assert "Check the liveness probe first." in shown.out
    whole = mai("chats", "show", str(ids[0]), "--json").json()
    assert whole["conversation"]["title"] == "Kubernetes pods restarting"
    assert [m["content"] for m in whole["messages"]] == CHATS[0][1]


def test_errors_exit_1(mai: Mai) -> None:
    seed(*CHATS)
    missing = mai("chats", "show", "999")
    assert missing.code == 1
    assert "999" in missing.err
    bad = mai("chats", "search", "pinned:maybe")
    assert bad.code == 1
    assert "pinned" in bad.err
    theirs = mai("chats", "list", "--json", user="stranger")
    assert theirs.code == 0
    assert theirs.json() == []  # someone else's conversations are not listed


def test_times_in_the_table_are_in_the_orgs_timezone(mai: Mai) -> None:
    from mai_tui.core.usage.billing import payer

    seed(*CHATS)  # the newest was last active 2026-01-05 09:30 UTC
    with load_context().session() as session:
        org = payer(session, session.exec(select(User)).one())
        org.timezone = "Europe/Warsaw"
        session.add(org)
    assert "2026-01-05 10:30" in mai("chats", "list").out
    assert mai("chats", "list", "--json").json()[0]["updated_at"].startswith("2026-01-05T09:30:00")
