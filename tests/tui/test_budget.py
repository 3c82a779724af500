"""Budgets in the app: a refused message stays in the box, the 80% warning shows, an admin may
send once over the limit; an admin's app runs the OpenRouter sync in the background."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import select

from mai_tui.core.context import load_context
from mai_tui.core.store.models import ChatMessage, LedgerEntry
from mai_tui.core.store.types import utcnow
from mai_tui.core.usage import ledger
from mai_tui.core.usage.lease import status
from mai_tui.core.usage.orgs import ensure_personal_org
from mai_tui.tui.app import MaiApp
from mai_tui.tui.widgets.prompt import PromptBox
from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import wait_until

ROUTE = "/api/v1/chat/completions"


def spent(usd: str, limit: str) -> None:
    """The `personal` org (the admin's) has a monthly limit and has spent `usd` of it."""
    context = load_context()
    with context.session() as session:
        context.current_user(session)  # the first user: the admin
        org = ensure_personal_org(session)
        org.monthly_limit_usd, org.markup_rate = Decimal(limit), Decimal(1)
        session.add(org)
        session.flush()
        ledger.record(
            session,
            org,
            LedgerEntry(
                day=utcnow().date(),
                org_id=0,
                kind="manual",
                provider="manual",
                model="manual",
                raw_cost_usd=Decimal(usd),
                cost_source="manual",
            ),
        )


def notes(app: MaiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def send(pilot: Any, text: str) -> None:
    box = pilot.app.screen.query_one(PromptBox)
    box.load_text(text)
    box.focus()
    await pilot.press("enter")


def answers() -> list[ChatMessage]:
    with load_context().session(write=False) as session:
        return list(session.exec(select(ChatMessage).where(ChatMessage.role == "assistant")).all())


async def test_over_the_limit_the_message_stays_and_an_admin_may_send_once(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["Fine."])))
    spent("10", limit="10")
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        await send(pilot, "Hello?")
        await wait_until(pilot, lambda: any("monthly limit" in n for n in notes(app)))
        assert app.screen.query_one(PromptBox).text == "Hello?"  # nothing lost
        assert openrouter.requests == []
        app.allow_over_budget()  # the palette's "Send over the limit" (admins only)
        await send(pilot, "Hello?")
        await wait_until(pilot, lambda: [a.status for a in answers()] == ["complete"])
        assert any("sent anyway" in n for n in notes(app))
        assert app.over_budget is False  # for one message only


async def test_the_80_percent_warning_shows_and_the_message_goes(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["Fine."])))
    spent("8.5", limit="10")
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        await send(pilot, "Hello?")
        await wait_until(pilot, lambda: [a.status for a in answers()] == ["complete"])
        assert any("85% of its monthly limit" in n for n in notes(app))


async def test_an_admins_app_syncs_in_the_background(openrouter: FakeServer) -> None:
    app = MaiApp()
    app.FIRST_SYNC_AFTER = 0.01
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        await wait_until(pilot, synced)
    state = status(load_context())
    assert state is not None
    assert state.last_error is None


def synced() -> bool:
    state = status(load_context())
    return state is not None and state.last_run_at is not None
