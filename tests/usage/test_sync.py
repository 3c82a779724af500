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
from mai_tui.core.usage.openrouter_api import OpenRouterAPI
from mai_tui.core.usage.orgs import OrgChanges, add_org, assign_user, set_org_key
from mai_tui.core.usage.sync import LEASE_SECONDS, UNATTRIBUTED, Sync, acquire_lease, status
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
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def sync(self, *, days_back: int = 2, owner: str = "worker-1", api: OpenRouterAPI | None = None) -> Sync:
        api = api or OpenRouterAPI(self.fake.base_url, sleep=self.sleeps.append)
        return Sync(self.context, api, days_back=days_back, now=lambda: self.now, owner=owner)

    def at(self, moment: datetime) -> None:
        self.now = moment
        self.fake.set_now(moment)

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
        with self.context.session() as session:
            org = session.get(Organization, self.org_id)
            assert org is not None
            ledger.record(
                session,
                org,
                LedgerEntry(
                    created_at=at,
                    day=at.date(),
                    org_id=self.org_id,
                    kind="chat",
                    provider="openrouter",
                    model=f"openrouter/{model}",
                    generation_id=generation,
                    key_hash=self.key_hash,
                    prompt_tokens=10,
                    completion_tokens=5,
                    raw_cost_usd=Decimal(cost),
                    cost_source="provider",
                ),
            )


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
    world.sync().run()  # first sight: the key's earlier spend becomes the baseline
    assert [r.kind for r in world.rows()] == ["ask"]
    world.fake.spend(world.key, MODEL, "0.0123", prompt_tokens=100, completion_tokens=50)  # another tool
    report = world.sync().run()
    assert report.outside_spend_usd == Decimal("0.0123")
    reconcile = world.rows()[-1]
    assert (reconcile.kind, reconcile.model, reconcile.cost_source) == (
        "reconcile",
        UNATTRIBUTED,
        "openrouter_reconcile",
    )
    assert (reconcile.raw_cost_usd, reconcile.billed_cost_usd) == (Decimal("0.0123"), Decimal("0.01845"))
    assert world.sync().run().outside_spend_usd == 0  # never counted twice
    assert len(world.rows()) == 2
    with world.context.session(write=False) as session:
        state = session.get(KeyState, (world.org_id, world.key_hash))
        assert state is not None
        assert state.baseline_usd == Decimal("0.004")
    assert world.key_total() == world.fake.key_usage(world.key).usage - Decimal("0.004")
    assert world.consistent()


def test_a_closed_day_moves_outside_spend_to_its_models(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    management_key(world, monkeypatch)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    world.at(day - timedelta(hours=12))
    world.sync().run()  # first sight of the key on the 19th
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
    seen = world.sync().run()
    assert seen.outside_spend_usd == Decimal("0.01")  # booked as unattributed when seen
    world.at(day + timedelta(days=1, hours=10))  # the 20th is now a finished UTC day
    closing = world.sync().run()
    assert closing.errors == []
    assert (closing.days_closed, closing.day_differences_usd) == (1, Decimal("0.01"))
    rows = world.rows()
    moved = [r for r in rows if r.kind == "reconcile" and r.model == "openrouter/anthropic/claude-sonnet-4.5"]
    [to_model] = moved
    assert (to_model.raw_cost_usd, to_model.prompt_tokens, to_model.completion_tokens) == (Decimal("0.01"), 1000, 400)
    assert to_model.created_at.date() == day.date()  # on the day it was spent
    unattributed = sum((r.raw_cost_usd for r in rows if r.model == UNATTRIBUTED), Decimal(0))
    assert unattributed == 0  # moved, not counted twice
    assert world.key_total() == world.fake.key_usage(world.key).usage
    with world.context.session(write=False) as session:
        [closed] = session.exec(select(ClosedDay)).all()
    assert (closed.day, closed.activity_usd, closed.ledger_usd) == (day.date(), Decimal("0.015"), Decimal("0.005"))
    count = len(rows)
    assert world.sync().run().days_closed == 0  # twice = once
    assert len(world.rows()) == count
    assert world.consistent()


def test_an_estimate_wrong_on_a_closed_day_is_corrected(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    management_key(world, monkeypatch)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    world.at(day - timedelta(hours=12))
    world.sync().run()
    world.fake.spend(world.key, MODEL, "0.0031", prompt_tokens=10, completion_tokens=5, at=day + timedelta(hours=9))
    with world.context.session() as session:  # the app's own record of that call was an estimate
        org = session.get(Organization, world.org_id)
        assert org is not None
        ledger.record(
            session,
            org,
            LedgerEntry(
                created_at=day + timedelta(hours=9),
                day=day.date(),
                org_id=world.org_id,
                kind="chat",
                provider="openrouter",
                model=f"openrouter/{MODEL}",
                key_hash=world.key_hash,
                raw_cost_usd=Decimal("0.0035"),
                cost_source="price_table",
                estimated=True,
            ),
        )
    world.at(day + timedelta(days=1, hours=1))
    report = world.sync().run()
    assert report.ledger_ahead_usd == 0  # the closing ran first and corrected it
    assert report.day_differences_usd == Decimal("-0.0004")
    assert world.key_total() == Decimal("0.0031")
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
    dead = DiesMidRun(world.context, api, days_back=2, now=lambda: world.now, owner="dead")
    with pytest.raises(Killed):
        dead.run()
    assert sum(r.pending for r in world.rows()) == 2  # the first row was completed whole
    assert world.consistent()
    assert world.sync(owner="restarted").run().lease_held_by == "dead"  # its lease still holds
    world.now += timedelta(seconds=LEASE_SECONDS + 1)
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
    assert acquire_lease(world.context, "other-instance", world.now) is None
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
        results.append(acquire_lease(world.context, f"worker-{n}", world.now))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
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
        if len(waits) == 1:  # between the cycles, spend appears outside the app
            world.fake.spend(world.key, MODEL, "0.25", prompt_tokens=1, completion_tokens=1)
        return len(waits) == 2

    watch(world.context, admin, on_report=reports.append, wait=wait)
    assert waits == [600.0, 600.0]  # OPENROUTER_USAGE_SYNC_INTERVAL
    assert [r.outside_spend_usd for r in reports] == [Decimal(0), Decimal("0.25")]  # baseline, then the spend
    with pytest.raises(PermissionDenied):
        watch(world.context, plain, wait=wait)
