"""The OpenRouter usage sync against a stateful fake OpenRouter over real HTTP, on SQLite,
PostgreSQL and MariaDB: gap filling, outside spend, closed days, 429 storms, a worker killed
mid-run, two workers at once. Nothing is mocked; time is injected."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from mai_tui.core.chat.ask import ask
from mai_tui.core.context import AppContext, load_context
from mai_tui.core.store.models import ClosedDay, KeyState, LedgerEntry, Organization
from mai_tui.core.usage import ledger
from mai_tui.core.usage.lease import LEASE_SECONDS, acquire_lease, status
from mai_tui.core.usage.openrouter_api import OpenRouterAPI
from mai_tui.core.usage.orgs import OrgChanges, add_org, assign_user, set_org_key
from mai_tui.core.usage.reconcile import UNATTRIBUTED
from mai_tui.core.usage.sync import Sync
from tests.fakes.openrouter import FakeOpenRouter

MODEL = "openai/gpt-4o-mini"


@dataclass
class World:
    fake: FakeOpenRouter
    context: AppContext
    key: str
    key_hash: str
    org_id: int
    sleeps: list[float] = field(default_factory=list)
    frozen: datetime | None = None  # None: the real clock, like the app's own calls

    def now(self) -> datetime:
        return self.frozen or datetime.now(UTC).replace(microsecond=0)

    def sync(self, *, days_back: int = 2, owner: str = "worker-1", api: OpenRouterAPI | None = None) -> Sync:
        api = api or OpenRouterAPI(self.fake.base_url, sleep=self.sleeps.append)
        return Sync(self.context, api, days_back=days_back, now=self.now, owner=owner)

    def at(self, moment: datetime) -> None:
        self.frozen = moment
        self.fake.set_now(moment)

    def later(self, seconds: float) -> None:
        self.at(self.now() + timedelta(seconds=seconds))

    def rows(self) -> list[LedgerEntry]:
        with self.context.session(write=False) as session:
            return list(session.exec(select(LedgerEntry).order_by(col(LedgerEntry.id))).all())

    def key_total(self) -> Decimal:
        with self.context.session(write=False) as session:
            total = session.exec(
                select(func.sum(LedgerEntry.raw_cost_usd)).where(LedgerEntry.key_hash == self.key_hash)
            ).one()
            return total if total is not None else Decimal(0)

    def consistent(self) -> bool:
        with self.context.session(write=False) as session:
            return ledger.rollup_mismatches(session) == {}

    def app_call(self, at: datetime, cost: str, model: str = MODEL) -> None:
        """A call made through this app on the org's key: on OpenRouter and in the ledger."""
        generation = self.fake.spend(self.key, model, cost, prompt_tokens=10, completion_tokens=5, at=at)
        self.ledger_row(at, cost, model=model, generation_id=generation, prompt_tokens=10, completion_tokens=5)

    def ledger_row(self, at: datetime, cost: str, *, model: str = MODEL, **fields: Any) -> None:
        """The app's ledger row of a call on the org's key (what the app believed it cost)."""
        with self.context.session() as session:
            org = session.get(Organization, self.org_id)
            assert org is not None
            values: dict[str, Any] = {
                "created_at": at,
                "day": at.date(),
                "org_id": self.org_id,
                "kind": "chat",
                "provider": "openrouter",
                "model": f"openrouter/{model}",
                "key_hash": self.key_hash,
                "raw_cost_usd": Decimal(cost),
                "cost_source": "provider",
            }
            ledger.record(session, org, LedgerEntry(**{**values, **fields}))


@pytest.fixture
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with FakeOpenRouter() as fake:
        monkeypatch.setenv("OPENROUTER_BASE_URL", fake.base_url)
        monkeypatch.setenv("MAI_DEFAULT_MODEL", f"openrouter/{MODEL}")
        context = load_context()
        key, key_hash = fake.add_key("acme")
        with context.session() as session:
            admin = context.current_user(session)
            org = add_org(session, admin, "acme", OrgChanges(markup_rate="1.5"))
            assign_user(session, admin, admin.name, "acme")
            set_org_key(session, context.secrets, admin, "acme", key)
            assert org.id is not None
            org_id = org.id
        yield World(fake, context, key, key_hash, org_id)


def management_key(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    plaintext, _hash = world.fake.add_key("admin", management=True)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_KEY", plaintext)
    world.context = load_context()


def test_normal_use_is_billed_from_the_stream_and_needs_no_correction(world: World) -> None:
    answer = asyncio.run(ask(world.context, "Say hello")).answer
    [row] = world.rows()
    assert row.key_hash == world.key_hash  # the org's own key was used
    [call] = world.fake.requests_to("/chat/completions")
    assert call.headers["authorization"] == f"Bearer {world.key}"
    assert call.json()["user"] == "acme/tester"
    generation = world.fake.generations[row.generation_id or ""]
    assert row.raw_cost_usd == generation.cost == (answer.usage.cost_usd if answer.usage else None)
    assert row.billed_cost_usd == generation.cost * Decimal("1.5")
    for _ in range(2):
        report = world.sync().run()
        assert report.errors == []
        assert (report.outside_spend_usd, report.filled) == (Decimal(0), 0)
    assert world.rows() == [row]
    assert world.key_total() == world.fake.key_usage(world.key).usage


def test_a_stream_cut_before_usage_is_completed_by_the_worker(world: World) -> None:
    world.fake.cut_before_usage = 1
    world.fake.generation_404s = 2  # OpenRouter's record appears with a delay
    asyncio.run(ask(world.context, "Say hello"))
    [row] = world.rows()
    assert (row.pending, row.estimated, row.cost_source) == (True, True, "price_table")
    generation = world.fake.generations[row.generation_id or ""]
    assert row.raw_cost_usd != generation.cost  # an estimate, until OpenRouter's record is read
    first = world.sync().run()
    assert (first.filled, first.still_pending) == (0, 1)
    assert world.sync().run().still_pending == 1
    third = world.sync().run()
    assert (third.filled, third.still_pending) == (1, 0)
    [row] = world.rows()
    assert (row.pending, row.estimated, row.cost_source) == (False, False, "openrouter_generation")
    assert row.raw_cost_usd == generation.cost
    assert (row.prompt_tokens, row.completion_tokens) == (generation.tokens_prompt, generation.tokens_completion)
    assert world.consistent()
    assert world.sync().run().filled == 0  # twice = once
    assert world.key_total() == world.fake.key_usage(world.key).usage


def test_spend_outside_the_app_is_recorded_once(world: World) -> None:
    world.fake.spend(world.key, MODEL, "0.004", prompt_tokens=0, completion_tokens=0)  # before: not ours
    asyncio.run(ask(world.context, "Say hello"))
    world.sync().run()  # first sight: the counter is read
    world.sync().run()  # and becomes the baseline once the calls of that moment are written
    assert [r.kind for r in world.rows()] == ["ask"]
    world.fake.spend(world.key, MODEL, "0.0123", prompt_tokens=100, completion_tokens=50)  # another tool
    seen = world.sync().run()  # reads it; compares the previous reading (a call may be in flight)
    assert seen.outside_spend_usd == 0
    booked = world.sync().run()
    assert booked.outside_spend_usd == Decimal("0.0123")
    reconcile = world.rows()[-1]
    assert (reconcile.kind, reconcile.model, reconcile.cost_source) == (
        "reconcile",
        UNATTRIBUTED,
        "openrouter_reconcile",
    )
    assert (reconcile.raw_cost_usd, reconcile.billed_cost_usd) == (Decimal("0.0123"), Decimal("0.01845"))
    for _ in range(2):
        assert world.sync().run().outside_spend_usd == 0  # never counted twice
    assert len(world.rows()) == 2
    with world.context.session(write=False) as session:
        state = session.get(KeyState, (world.org_id, world.key_hash))
        assert state is not None
        assert state.baseline_usd == Decimal("0.004")
    assert world.key_total() == world.fake.key_usage(world.key).usage - Decimal("0.004")
    assert world.consistent()


def test_a_call_counted_before_its_row_is_written_is_not_outside_spend(world: World) -> None:
    world.at(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    world.sync().run()
    world.later(600)
    world.sync().run()  # baseline 0
    started = world.now() + timedelta(seconds=5)
    generation = world.fake.spend(world.key, MODEL, "0.02", prompt_tokens=10, completion_tokens=5, at=started)
    world.later(10)
    world.sync().run()  # OpenRouter already counts the call; the app has not written its row yet
    with world.context.session() as session:  # now it does, dated when the call started
        org = session.get(Organization, world.org_id)
        assert org is not None
        ledger.record(
            session,
            org,
            LedgerEntry(
                created_at=started,
                day=started.date(),
                org_id=world.org_id,
                kind="chat",
                provider="openrouter",
                model=f"openrouter/{MODEL}",
                generation_id=generation,
                key_hash=world.key_hash,
                raw_cost_usd=Decimal("0.02"),
                cost_source="provider",
            ),
        )
    for _ in range(3):
        world.later(600)
        assert world.sync().run().outside_spend_usd == 0
    assert world.key_total() == world.fake.key_usage(world.key).usage


def test_no_baseline_while_a_call_of_that_moment_is_pending(world: World) -> None:
    world.fake.cut_before_usage = 1
    world.fake.generation_404s = 3
    world.fake.spend(world.key, MODEL, "1", prompt_tokens=1, completion_tokens=1)  # spent before this app
    asyncio.run(ask(world.context, "Say hello"))  # its cost is an estimate until OpenRouter's record comes
    for _ in range(3):
        world.sync().run()
    with world.context.session(write=False) as session:
        state = session.get(KeyState, (world.org_id, world.key_hash))
        assert state is not None
        assert state.baseline_usd is None  # the estimate would have leaked into it
    world.sync().run()  # the record arrives; the baseline follows
    world.sync().run()
    with world.context.session(write=False) as session:
        state = session.get(KeyState, (world.org_id, world.key_hash))
        assert state is not None
        assert state.baseline_usd == Decimal(1)
    world.sync().run()
    assert world.key_total() == world.fake.key_usage(world.key).usage - 1
    assert [r.kind for r in world.rows()] == ["ask"]


def first_sight(world: World, at: datetime) -> None:
    """The key is seen (at `at`) and its baseline set ten minutes later."""
    world.at(at)
    world.sync().run()
    world.later(600)
    world.sync().run()


def test_a_closed_day_moves_outside_spend_to_its_models(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    management_key(world, monkeypatch)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    first_sight(world, day - timedelta(hours=12))
    world.app_call(day + timedelta(hours=9), "0.002")
    world.app_call(day + timedelta(hours=10), "0.003", model="anthropic/claude-sonnet-4.5")
    # the same day, another tool spends on the org's key
    world.fake.spend(
        world.key,
        "anthropic/claude-sonnet-4.5",
        "0.01",
        prompt_tokens=1000,
        completion_tokens=400,
        at=day + timedelta(hours=15),
    )
    world.at(day + timedelta(hours=16))
    world.sync().run()
    world.later(600)
    seen = world.sync().run()
    assert seen.outside_spend_usd == Decimal("0.01")  # booked as unattributed when seen
    world.at(day + timedelta(days=1, hours=1))
    assert world.sync().run().days_closed == 0  # too soon after midnight: late rows may still come
    world.at(day + timedelta(days=1, hours=3))
    closing = world.sync().run()
    assert closing.errors == []
    assert (closing.days_closed, closing.day_differences_usd) == (1, Decimal("0.01"))
    rows = world.rows()
    [to_model] = [r for r in rows if r.kind == "reconcile" and r.model == "openrouter/anthropic/claude-sonnet-4.5"]
    assert (to_model.raw_cost_usd, to_model.prompt_tokens, to_model.completion_tokens) == (Decimal("0.01"), 1000, 400)
    assert to_model.created_at.date() == day.date()  # on the day it was spent
    unattributed = [r for r in rows if r.model == UNATTRIBUTED]
    assert sum((r.raw_cost_usd for r in unattributed), Decimal(0)) == 0  # moved, not counted twice
    assert {r.created_at for r in unattributed} == {day + timedelta(hours=16)}  # reversed at its own time
    assert world.key_total() == world.fake.key_usage(world.key).usage
    with world.context.session(write=False) as session:
        [closed] = session.exec(select(ClosedDay)).all()
    assert (closed.day, closed.activity_usd, closed.ledger_usd) == (day.date(), Decimal("0.015"), Decimal("0.005"))
    count = len(rows)
    world.later(600)
    assert world.sync().run().days_closed == 0  # twice = once
    world.later(600)
    world.sync().run()
    assert len(world.rows()) == count
    assert world.consistent()


def test_spend_on_the_last_day_of_a_month_stays_in_that_month(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from mai_tui.core.usage.reports import statement

    management_key(world, monkeypatch)
    last = datetime(2026, 10, 31, tzinfo=UTC)
    first_sight(world, last - timedelta(days=2))
    world.fake.spend(world.key, MODEL, "2", prompt_tokens=10, completion_tokens=10, at=last + timedelta(hours=20))
    world.at(last + timedelta(hours=23))
    world.sync().run()
    world.later(1800)  # 23:30 on the 31st: booked in October
    assert world.sync().run().outside_spend_usd == 2
    world.at(last + timedelta(days=1, hours=4))  # November: the 31st closes
    assert world.sync().run().days_closed == 1
    with world.context.session(write=False) as session:
        org = session.get(Organization, world.org_id)
        assert org is not None
        october, november = statement(session, org, "2026-10"), statement(session, org, "2026-11")
    assert (october.raw_cost_usd, november.raw_cost_usd) == (Decimal(2), Decimal(0))
    assert october.billed_cost_usd == Decimal(3)  # at acme's 1.5 markup


def test_a_day_openrouter_reports_nothing_for_stays_open(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    management_key(world, monkeypatch)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    first_sight(world, day - timedelta(hours=12))
    world.ledger_row(day + timedelta(hours=9), "0.5")  # the app billed a call OpenRouter has no record of (yet)
    world.at(day + timedelta(days=1, hours=4))
    report = world.sync().run()
    assert report.days_closed == 0
    assert any("reports nothing yet" in s for s in report.skipped)
    assert world.key_total() == Decimal("0.5")  # not booked away


def test_an_estimate_wrong_on_a_closed_day_is_corrected(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    management_key(world, monkeypatch)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    first_sight(world, day - timedelta(hours=12))
    world.fake.spend(world.key, MODEL, "0.0031", prompt_tokens=10, completion_tokens=5, at=day + timedelta(hours=9))
    world.ledger_row(  # the app's own record of that call was an estimate
        day + timedelta(hours=9), "0.0035", cost_source="price_table", estimated=True
    )
    world.at(day + timedelta(days=1, hours=4))
    report = world.sync().run()
    assert report.day_differences_usd == Decimal("-0.0004")
    assert world.key_total() == Decimal("0.0031")
    world.later(600)
    again = world.sync().run()
    assert (again.outside_spend_usd, again.ledger_ahead_usd) == (Decimal(0), Decimal(0))
    assert world.consistent()


def test_a_429_storm_backs_off_and_the_next_cycle_finishes(world: World) -> None:
    world.fake.cut_before_usage = 1
    asyncio.run(ask(world.context, "Say hello"))
    world.fake.fail("/generation", 429, times=4, retry_after=None)  # every try of one cycle
    first = world.sync().run()
    assert first.filled == 0
    assert first.errors
    assert "429" in first.errors[0]
    assert world.sleeps == [1.0, 2.0, 4.0]  # exponential back-off between the four tries
    state = status(world.context)
    assert state is not None
    assert state.last_error is not None
    assert "429" in state.last_error
    assert state.lease_owner is None  # released for the next cycle
    world.sleeps.clear()
    world.fake.fail("/generation", 429, times=1, retry_after=7)
    second = world.sync().run()
    assert (second.filled, second.errors) == (1, [])
    assert world.sleeps == [7.0]  # Retry-After honoured
    assert status(world.context).last_error is None  # type: ignore[union-attr]


class Killed(BaseException):
    """The process dies here: no `finally`-style clean-up of the sync's state happens after it."""


class DiesMidRun(Sync):
    def _finish(self, report: Any, started: datetime) -> None:  # a killed process records nothing
        pass


def test_a_worker_killed_mid_run_leaves_nothing_half_done(world: World) -> None:
    world.fake.cut_before_usage = 3
    for prompt in ("one", "two", "three"):
        asyncio.run(ask(world.context, prompt))
    assert sum(r.pending for r in world.rows()) == 3
    api = OpenRouterAPI(world.fake.base_url, sleep=world.sleeps.append)
    real = api.generation
    calls = 0

    def dying(key: str, generation_id: str) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Killed
        return real(key, generation_id)

    api.generation = dying  # type: ignore[method-assign]
    dead = DiesMidRun(world.context, api, days_back=2, now=world.now, owner="dead")
    with pytest.raises(Killed):
        dead.run()
    assert sum(r.pending for r in world.rows()) == 2  # the first row was completed whole
    assert world.consistent()
    assert world.sync(owner="restarted").run().lease_held_by == "dead"  # its lease still holds
    world.at(datetime.now(UTC) + timedelta(seconds=LEASE_SECONDS + 1))
    report = world.sync(owner="restarted").run()
    assert (report.lease_held_by, report.filled) == (None, 2)
    rows = world.rows()
    assert len(rows) == 3
    assert not any(r.pending for r in rows)
    assert world.key_total() == world.fake.key_usage(world.key).usage
    assert world.consistent()


def test_two_workers_at_once_one_holds_the_lease(world: World) -> None:
    world.fake.cut_before_usage = 1
    asyncio.run(ask(world.context, "Say hello"))
    assert acquire_lease(world.context, "other-instance", world.now()) is None
    before = len(world.fake.requests)
    report = world.sync().run()
    assert report.lease_held_by == "other-instance"
    assert len(world.fake.requests) == before  # it did nothing at all
    assert world.rows()[0].pending


def test_status_is_kept(world: World) -> None:
    world.sync().run()
    state = status(world.context)
    assert state is not None
    assert state.last_run_at is not None
    assert state.next_run_at is not None
    assert state.next_run_at - state.last_run_at >= timedelta(seconds=600 - 5)
    assert json.loads(state.last_result or "{}")["errors"] == []


def test_racing_for_the_lease_exactly_one_wins(world: World) -> None:
    barrier = threading.Barrier(6)
    results: list[str | None] = []

    def race(n: int) -> None:
        barrier.wait()
        results.append(acquire_lease(world.context, f"worker-{n}", world.now()))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6  # every racer got an answer (none crashed)
    assert results.count(None) == 1


def test_watch_runs_a_cycle_every_interval_until_told_to_stop(world: World) -> None:
    from mai_tui.core.errors import PermissionDenied
    from mai_tui.core.store.models import User
    from mai_tui.core.usage.sync import watch

    waits: list[float] = []
    reports: list[Any] = []
    with world.context.session() as session:
        admin = world.context.current_user(session)
        plain = User(name="plain", role="user")
        session.add(plain)
    world.fake.spend(world.key, MODEL, "0.1", prompt_tokens=1, completion_tokens=1)

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        world.later(seconds)
        if len(waits) == 2:  # between the cycles, spend appears outside the app
            world.fake.spend(world.key, MODEL, "0.25", prompt_tokens=1, completion_tokens=1)
        return len(waits) == 4

    world.at(datetime.now(UTC).replace(microsecond=0))
    watch(world.context, admin, on_report=reports.append, wait=wait)
    assert waits == [600.0] * 4  # OPENROUTER_USAGE_SYNC_INTERVAL
    # first sight, baseline, the reading with the spend, the booking
    assert [r.outside_spend_usd for r in reports] == [0, 0, 0, Decimal("0.25")]
    with pytest.raises(PermissionDenied):
        watch(world.context, plain, wait=wait)


def test_a_cycle_that_loses_its_lease_stops(world: World) -> None:
    world.fake.cut_before_usage = 2
    for prompt in ("one", "two"):
        asyncio.run(ask(world.context, prompt))
    api = OpenRouterAPI(world.fake.base_url, sleep=world.sleeps.append)
    real = api.generation

    def slow(key: str, generation_id: str) -> Any:
        # the cycle overran its lease and another instance took it meanwhile
        far = world.now() + timedelta(seconds=LEASE_SECONDS + 1)
        assert acquire_lease(world.context, "newcomer", far) is None
        return real(key, generation_id)

    api.generation = slow  # type: ignore[method-assign]
    report = Sync(world.context, api, now=world.now, owner="slow").run()
    assert report.filled == 1  # the lookup in hand is finished
    assert report.errors
    assert "newcomer" in report.errors[0]  # then it stops instead of syncing alongside
    assert sum(r.pending for r in world.rows()) == 1


def test_the_ledger_names_the_key_a_call_really_used(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from mai_tui.core.chat.streaming import stream_into
    from mai_tui.core.chat.turns import prepare_turn
    from mai_tui.core.providers.registry import Providers

    shared, _hash = world.fake.add_key("shared")
    monkeypatch.setenv("OPENROUTER_API_KEY", shared)
    context = load_context()
    stale = Providers(context.settings, context.secrets)  # built before the org had its own key
    turn = prepare_turn(context, "Say hello")
    assert turn.billing is not None
    assert turn.billing.key_hash == world.key_hash  # what the org has now

    async def call() -> None:
        try:
            await stream_into(context, stale.get("openrouter"), turn.request, turn.answer.id or 0, billing=turn.billing)
        finally:
            await stale.aclose()

    asyncio.run(call())
    [request] = world.fake.requests_to("/chat/completions")
    assert request.headers["authorization"] == f"Bearer {shared}"
    [row] = world.rows()
    assert row.key_hash is None  # billed to the shared key it went out on, not the org's
