"""The ledger and its rollups on SQLite, PostgreSQL and MariaDB: exact money, the org's day,
rollups always equal to the ledger, budgets and request limits, price-table estimates."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select

from mai_tui.core.context import AppContext, load_context
from mai_tui.core.providers.events import Answer, Started, TextDelta, Usage
from mai_tui.core.store.models import CallKind, DailyUsage, LedgerEntry, Organization, Role, User
from mai_tui.core.usage import ledger, prices
from mai_tui.core.usage.billing import Billing, BudgetExceeded, charge, check_spending, month_to_date
from mai_tui.core.usage.orgs import OrgChanges, add_org

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def context(database_url: str) -> AppContext:
    return load_context()


def make_org(context: AppContext, name: str = "acme", **changes: str) -> int:
    with context.session() as session:
        admin = context.current_user(session)  # the first user is the admin
        org = add_org(session, admin, name, OrgChanges(**changes))  # type: ignore[arg-type]
        assert org.id is not None
        return org.id


def entry(model: str = "openrouter/openai/gpt-4o-mini", cost: str = "0.00002415", **fields: object) -> LedgerEntry:
    values: dict[str, Any] = {
        "created_at": NOW,
        "day": date(2000, 1, 1),  # record() sets the org's day
        "org_id": 0,
        "kind": "chat",
        "provider": model.split("/")[0],
        "model": model,
        "raw_cost_usd": Decimal(cost),
        "cost_source": "provider",
    }
    return LedgerEntry(**{**values, **fields})


def record(context: AppContext, org_id: int, row: LedgerEntry) -> LedgerEntry:
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        return ledger.record(session, org, row)


def test_billed_cost_is_exact_with_the_markup_in_force(context: AppContext) -> None:
    org_id = make_org(context, markup_rate="1.3")
    row = record(context, org_id, entry(cost="0.00002415"))
    assert row.billed_cost_usd == Decimal("0.000031395")
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        org.markup_rate = Decimal("1.5")
        session.add(org)
    later = record(context, org_id, entry(cost="0.1", generation_id="gen-2"))
    with context.session(write=False) as session:
        first = session.get(LedgerEntry, row.id)
        assert first is not None
        assert (first.markup_rate, first.billed_cost_usd) == (Decimal("1.3"), Decimal("0.000031395"))  # kept
        assert (later.markup_rate, later.billed_cost_usd) == (Decimal("1.5"), Decimal("0.15"))


def test_the_org_timezone_decides_the_day(context: AppContext) -> None:
    warsaw = make_org(context, "pl", timezone="Europe/Warsaw")
    utc = make_org(context, "uk", timezone="UTC")
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 February in Warsaw
    assert record(context, warsaw, entry(created_at=late)).day == date(2026, 2, 1)
    assert record(context, utc, entry(created_at=late, generation_id="g2")).day == date(2026, 1, 31)
    with context.session(write=False) as session:
        days = {(r.org_id, r.day) for r in session.exec(select(DailyUsage))}
    assert days == {(warsaw, date(2026, 2, 1)), (utc, date(2026, 1, 31))}


def test_rollups_always_equal_the_ledger(context: AppContext) -> None:
    """Hundreds of random calls, amendments and reconciliations: the rollups never drift."""
    orgs = [make_org(context, "a", timezone="Europe/Warsaw"), make_org(context, "b", timezone="America/New_York")]
    with context.session() as session:
        users = [None, session.exec(select(User).where(User.name == "tester")).one().id]
    rng = random.Random(7)  # noqa: S311 - a fixed, reproducible sequence
    models = ["openrouter/openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "openai/gpt-4o"]
    written: list[int] = []
    for n in range(300):
        row = entry(
            model=rng.choice(models),
            cost=str(Decimal(rng.randrange(0, 10**8)).scaleb(-10)),
            created_at=NOW - timedelta(minutes=rng.randrange(0, 60 * 24 * 40)),
            user_id=rng.choice(users),
            prompt_tokens=rng.randrange(0, 5000),
            completion_tokens=rng.randrange(0, 2000),
            cached_tokens=rng.randrange(0, 100),
            generation_id=f"gen-{n}",
            kind=rng.choice(["chat", "ask", "reconcile"]),
        )
        written.append(record(context, rng.choice(orgs), row).id or 0)
    for row_id in rng.sample(written, 40):
        with context.session() as session:
            stored = session.get(LedgerEntry, row_id)
            assert stored is not None
            ledger.amend(session, stored, raw_cost_usd=Decimal("0.0123456789"), completion_tokens=7, pending=False)
    with context.session(write=False) as session:
        assert ledger.rollup_mismatches(session) == {}
        total = sum((r.billed_cost_usd for r in session.exec(select(LedgerEntry))), Decimal(0))
        rolled = sum((r.billed_cost_usd for r in session.exec(select(DailyUsage))), Decimal(0))
        assert total == rolled
        # and a rollup that drifted would be caught
        one = session.exec(select(DailyUsage)).first()
        assert one is not None
        one.raw_cost_usd += Decimal("0.0000000001")
        session.add(one)
        session.flush()
        assert len(ledger.rollup_mismatches(session)) == 1
        session.rollback()


def test_concurrent_writers_never_lose_a_rollup_update(context: AppContext) -> None:
    org_id = make_org(context)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(20):
                record(context, org_id, entry(cost="0.001", generation_id=f"gen-{worker}-{n}"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with context.session(write=False) as session:
        [rollup] = session.exec(select(DailyUsage)).all()
        assert (rollup.requests, rollup.raw_cost_usd) == (80, Decimal("0.08"))
        assert ledger.rollup_mismatches(session) == {}


def test_a_generation_is_recorded_once(context: AppContext) -> None:
    from mai_tui.core.store.models import ChatMessage, Conversation

    org_id = make_org(context)
    with context.session() as session:
        user = context.current_user(session)
        conversation = Conversation(user_id=user.id, title="t")
        session.add(conversation)
        session.flush()
        message = ChatMessage(conversation_id=conversation.id or 0, role="assistant")
        session.add(message)
        session.flush()
        message_id = message.id
        billing = Billing(org_id, "acme", user.id, CallKind.CHAT, "openrouter", "openrouter/x/y", None, NOW, 40)
    answer = Answer()
    for event in (Started("gen-1"), TextDelta("hi"), Usage(10, 2, cost_usd=Decimal("0.5"), generation_id="gen-1")):
        answer.apply(event)
    with context.session() as session:
        first = charge(session, billing, answer, message_id=message_id)
    with context.session() as session:
        again = charge(session, billing, answer, message_id=message_id)  # the same answer, billed once
    assert first is not None
    assert again is not None
    assert first.id == again.id
    with context.session(write=False) as session:
        assert len(session.exec(select(LedgerEntry)).all()) == 1


def test_an_id_reused_by_another_call_is_billed_again(context: AppContext) -> None:
    org_id = make_org(context)
    with context.session() as session:
        user = context.current_user(session)
        billing = Billing(org_id, "acme", user.id, CallKind.CHAT, "ollama", "ollama/llama3", None, NOW, 40)
        answer = Answer()
        for event in (Started("chatcmpl-7"), TextDelta("hi"), Usage(10, 2, generation_id="chatcmpl-7")):
            answer.apply(event)
        first = charge(session, billing, answer, message_id=None)
        second = charge(session, billing, answer, message_id=None)  # a local server counts ids from 0 again
    assert first is not None
    assert second is not None
    assert first.id != second.id
    assert (first.generation_id, second.generation_id) == ("chatcmpl-7", None)
    assert second.note is not None
    assert "reused id chatcmpl-7" in second.note


def test_no_usage_is_estimated_from_the_price_table_and_marked(context: AppContext) -> None:
    org_id = make_org(context)
    with context.session() as session:
        user = context.current_user(session)
        billing = Billing(
            org_id, "acme", user.id, CallKind.CHAT, "anthropic", "anthropic/claude-sonnet-4-5", None, NOW, 0
        )
        answer = Answer()
        # 10,000 prompt tokens of which 8,000 cache reads, 500 written to the cache, 500 output
        answer.apply(Usage(prompt_tokens=10_000, completion_tokens=500, cached_tokens=8_000, cache_write_tokens=500))
        row = charge(session, billing, answer, message_id=None)
    assert row is not None
    # 1,500 × $3 + 8,000 × $0.30 + 500 × $3.75 + 500 × $15, per million
    assert row.raw_cost_usd == Decimal("0.016275")
    assert (row.cost_source, row.estimated) == ("price_table", True)
    assert row.price_snapshot is not None
    assert '"input_per_mtok": "3"' in row.price_snapshot


def test_a_stopped_stream_is_estimated_and_an_openrouter_one_left_pending(context: AppContext) -> None:
    org_id = make_org(context)
    with context.session() as session:
        user = context.current_user(session)
        openrouter = Billing(
            org_id, "acme", user.id, CallKind.CHAT, "openrouter", "openrouter/deepseek/deepseek-chat", None, NOW, 400
        )
        stopped = Answer()
        stopped.apply(Started("gen-cut"))
        stopped.apply(TextDelta("x" * 80))
        row = charge(session, openrouter, stopped, message_id=None)
        assert row is not None
        assert (row.prompt_tokens, row.completion_tokens, row.pending, row.estimated) == (100, 20, True, True)
        assert row.raw_cost_usd == Decimal("0.0000364")  # 100 × 0.28 + 20 × 0.42, per million
        unknown = Billing(org_id, "acme", user.id, CallKind.CHAT, "ollama", "ollama/llama3", None, NOW, 4)
        refused = Answer()
        assert charge(session, unknown, refused, message_id=None) is None  # nothing generated, nothing billed
        refused.apply(TextDelta("abcd"))
        free = charge(session, unknown, refused, message_id=None)
        assert free is not None
        assert (free.raw_cost_usd, free.pending, free.estimated) == (Decimal(0), False, True)
        assert free.note is not None
        assert "no price" in free.note


def _spend(context: AppContext, org_id: int, usd: str) -> None:
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        ledger.record(session, org, entry(cost=usd, created_at=NOW))


def _user(session: Session, role: Role) -> User:
    user = User(name=f"u-{role.value}", role=role.value)
    session.add(user)
    session.flush()
    return user


def test_budget_warns_at_80_percent_refuses_at_the_limit_and_admins_may_override(context: AppContext) -> None:
    org_id = make_org(context, markup_rate="1", monthly_limit_usd="10")
    _spend(context, org_id, "7.99")
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        member = _user(session, Role.USER)
        assert check_spending(session, org, member, now=NOW) is None
    _spend(context, org_id, "0.01")  # 80 %
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        member = session.exec(select(User).where(User.name == "u-user")).one()
        warning = check_spending(session, org, member, now=NOW)
        assert warning is not None
        assert "80%" in warning
    _spend(context, org_id, "2")  # exactly the limit
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        member = session.exec(select(User).where(User.name == "u-user")).one()
        admin = context.current_user(session)
        assert month_to_date(session, org, NOW) == Decimal(10)
        with pytest.raises(BudgetExceeded, match="monthly limit"):
            check_spending(session, org, member, now=NOW)
        with pytest.raises(BudgetExceeded, match="monthly limit"):
            check_spending(session, org, member, override=True, now=NOW)  # only admins may override
        with pytest.raises(BudgetExceeded, match="an admin can send anyway"):
            check_spending(session, org, admin, now=NOW)
        assert "sent anyway" in (check_spending(session, org, admin, override=True, now=NOW) or "")
        # a new month (in the org's timezone) starts from zero
        assert check_spending(session, org, member, now=datetime(2026, 12, 1, 0, 30, tzinfo=UTC)) is None


def test_the_budget_counts_every_day_of_the_org_s_month(context: AppContext) -> None:
    org_id = make_org(context, markup_rate="1", monthly_limit_usd="10", timezone="Europe/Warsaw")
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        # 30 Oct 23:30 UTC is already 1 Nov in Warsaw: this month there
        ledger.record(session, org, entry(cost="6", created_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC)))
        ledger.record(session, org, entry(cost="3", created_at=NOW - timedelta(days=20), generation_id="g2"))
        ledger.record(
            session, org, entry(cost="100", created_at=datetime(2026, 10, 31, 22, 30, tzinfo=UTC), generation_id="g3")
        )  # 31 Oct in Warsaw: last month
        member = _user(session, Role.USER)
        assert month_to_date(session, org, NOW) == Decimal(9)
        warning = check_spending(session, org, member, now=NOW)
        assert warning is not None
        assert "90%" in warning
        ledger.record(session, org, entry(cost="1", created_at=NOW - timedelta(days=2), generation_id="g4"))
        with pytest.raises(BudgetExceeded):
            check_spending(session, org, member, now=NOW)


def test_requests_per_minute(context: AppContext) -> None:
    org_id = make_org(context)
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        org.requests_per_minute = 2
        session.add(org)
    _spend(context, org_id, "0")
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        user = context.current_user(session)
        assert check_spending(session, org, user, now=NOW + timedelta(seconds=1)) is None
    with context.session() as session:  # manual and reconciliation rows are not requests
        org = session.get(Organization, org_id)
        assert org is not None
        ledger.record(session, org, entry(cost="1", kind="manual", generation_id="m1"))
        user = context.current_user(session)
        assert check_spending(session, org, user, now=NOW + timedelta(seconds=1)) is None
    _spend(context, org_id, "0")
    with context.session() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        user = context.current_user(session)
        with pytest.raises(BudgetExceeded, match="2 requests per minute"):
            check_spending(session, org, user, now=NOW + timedelta(seconds=1))
        assert check_spending(session, org, user, now=NOW + timedelta(seconds=61)) is None


def test_catalogue_prices_become_dated_price_rows(context: AppContext) -> None:
    from mai_tui.core.store.models import CatalogueEntry

    with context.session() as session:
        prices.ensure_seed(session)
        session.add(
            CatalogueEntry(
                id="openrouter/deepseek/deepseek-chat",
                provider="openrouter",
                model="deepseek/deepseek-chat",
                input_price_per_mtok=Decimal("0.30"),
                output_price_per_mtok=Decimal("0.42"),
                cache_read_price_per_mtok=Decimal("0.028"),
                cache_write_price_per_mtok=Decimal("0"),
            )
        )
        session.flush()
        assert prices.refresh_from_catalogue(session, today=date(2026, 11, 27)) == 1
        assert prices.refresh_from_catalogue(session, today=date(2026, 11, 27)) == 0  # unchanged: nothing new
        old = prices.price_on(session, "openrouter", "deepseek/deepseek-chat", date(2026, 11, 26))
        new = prices.price_on(session, "openrouter", "deepseek/deepseek-chat", date(2026, 11, 27))
        assert old is not None
        assert new is not None
        assert (old.input_per_mtok, new.input_per_mtok) == (Decimal("0.28"), Decimal("0.3"))
        assert new.source.startswith("openrouter model list")
