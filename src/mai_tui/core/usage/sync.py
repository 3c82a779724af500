"""The OpenRouter usage sync: what the seed's background service should have been.

One cycle, under a database lease so two running instances never sync at once:
(a) ledger rows whose stream broke before usage arrived are completed from
    `GET /generation?id=` (404 right after a call is normal: tried again next cycle);
(c) with a management key, each finished UTC day of an org's own key is closed against
    `GET /activity?date=&api_key_hash=`, per model, and any difference recorded;
(b) each org's own key's cumulative usage (`GET /key`, or `/keys/{hash}` with a management
    key) is compared with the ledger, and spend made outside this app is recorded.
Every correction is an explicit `openrouter_reconcile` ledger row, written in the same
transaction as the state that marks it done, so a cycle run twice (or killed and rerun)
never counts anything twice.

(b) books outside spend as model `openrouter/(unattributed)` when it is seen; (c) later
moves it to the models `/activity` names for that day. The org's total equals the key's
counter (less what it had spent before this app first saw it) after every cycle.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mai_tui.core.accounts import require_admin
from mai_tui.core.context import AppContext
from mai_tui.core.secrets import key_hash as hash_of
from mai_tui.core.secrets import secret_name
from mai_tui.core.store.models import (
    CallKind,
    ClosedDay,
    CostSource,
    KeyState,
    LedgerEntry,
    Organization,
    SyncStatus,
    User,
)
from mai_tui.core.store.types import to_money, utcnow
from mai_tui.core.usage import ledger
from mai_tui.core.usage.openrouter_api import OpenRouterAPI, SyncError
from mai_tui.i18n import _

log = logging.getLogger(__name__)

SYNC_NAME = "openrouter"
LEASE_SECONDS = 300
UNATTRIBUTED = "openrouter/(unattributed)"
MAX_ACTIVITY_DAYS = 30  # /activity covers the last 30 finished UTC days


@dataclass
class SyncReport:
    filled: int = 0  # pending rows completed from /generation
    still_pending: int = 0
    given_up: int = 0  # pending rows older than the look-back: their estimate stays
    outside_spend_usd: Decimal = Decimal(0)  # booked from the key counters (b)
    days_closed: int = 0
    day_differences_usd: Decimal = Decimal(0)  # recorded when closing days (c)
    ledger_ahead_usd: Decimal = Decimal(0)  # the ledger counts more than OpenRouter (estimates)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lease_held_by: str | None = None  # another instance was syncing: nothing done

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


# --- the lease ------------------------------------------------------------------------------


def _status_row(session: Session) -> SyncStatus:
    row = session.get(SyncStatus, SYNC_NAME)
    if row is None:
        try:
            with session.begin_nested():
                session.add(SyncStatus(name=SYNC_NAME))
        except IntegrityError:  # another instance created it first
            pass
        row = session.get(SyncStatus, SYNC_NAME)
    assert row is not None
    return row


def acquire_lease(context: AppContext, owner: str, now: datetime, seconds: int = LEASE_SECONDS) -> str | None:
    """Take (or renew) the sync lease; None when taken, else who holds it."""
    with context.session() as session:
        _status_row(session)
        taken = session.execute(
            update(SyncStatus)
            .where(
                col(SyncStatus.name) == SYNC_NAME,
                (col(SyncStatus.lease_owner).is_(None))
                | (col(SyncStatus.lease_until) < now)
                | (col(SyncStatus.lease_owner) == owner),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds), updated_at=now)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return None
        row = session.get(SyncStatus, SYNC_NAME)
        return row.lease_owner if row is not None and row.lease_owner else "?"


def release_lease(context: AppContext, owner: str) -> None:
    with context.session() as session:
        session.execute(
            update(SyncStatus)
            .where(col(SyncStatus.name) == SYNC_NAME, col(SyncStatus.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )


def status(context: AppContext) -> SyncStatus | None:
    with context.session(write=False) as session:
        return session.get(SyncStatus, SYNC_NAME)


# --- one cycle --------------------------------------------------------------------------------


@dataclass
class Sync:
    """One sync cycle's inputs. `now` and the API (with its sleep) are injectable for tests."""

    context: AppContext
    api: OpenRouterAPI
    days_back: int = 1
    now: Callable[[], datetime] = utcnow
    owner: str = field(default_factory=owner_name)

    def run(self) -> SyncReport:
        report = SyncReport()
        started = self.now()
        holder = acquire_lease(self.context, self.owner, started)
        if holder is not None:
            report.lease_held_by = holder
            return report
        try:
            self._fill_pending(report)
            self._close_days(report)
            self._reconcile_keys(report)
        except SyncError as error:  # OpenRouter keeps refusing: stop here, try next cycle
            report.errors.append(str(error))
        finally:
            self._finish(report, started)
        return report

    # (a) --------------------------------------------------------------------------------------
    def _fill_pending(self, report: SyncReport) -> None:
        since = self.now() - timedelta(days=self.days_back)
        with self.context.session(write=False) as session:
            rows = session.exec(
                select(LedgerEntry.id).where(col(LedgerEntry.pending).is_(True), LedgerEntry.provider == "openrouter")
            ).all()
        for row_id in rows:
            with self.context.session() as session:
                entry = session.get(LedgerEntry, row_id)
                if entry is None or not entry.pending or entry.generation_id is None:
                    continue
                if entry.created_at < since:
                    ledger.amend(session, entry, pending=False, note=_given_up_note(entry.note))
                    report.given_up += 1
                    continue
                key = self._key_for(session, entry)
            if key is None:
                report.skipped.append(_("no OpenRouter key to look up {id}").format(id=entry.generation_id))
                continue
            try:
                record = self.api.generation(key, entry.generation_id)
            except SyncError as error:
                report.errors.append(str(error))
                continue
            if record is None:
                report.still_pending += 1
                continue
            with self.context.session() as session:
                entry = session.get(LedgerEntry, row_id)
                if entry is None or not entry.pending:
                    continue  # done meanwhile
                ledger.amend(session, entry, pending=False, **_from_generation(record))
                report.filled += 1

    def _key_for(self, session: Session, entry: LedgerEntry) -> str | None:
        secrets = self.context.secrets
        if entry.key_hash is not None:
            org = session.get(Organization, entry.org_id)
            own = secrets.get(secret_name("openrouter", org.name)) if org is not None else None
            return own.value if own is not None and hash_of(own.value) == entry.key_hash else None
        shared = secrets.get("openrouter")
        return shared.value if shared is not None else None

    # (c) --------------------------------------------------------------------------------------
    def _close_days(self, report: SyncReport) -> None:
        management = self.context.secrets.get("openrouter-management")
        if management is None:
            return
        today = self.now().astimezone(UTC).date()
        first = today - timedelta(days=min(max(self.days_back, 1), MAX_ACTIVITY_DAYS))
        for org_id, org_name, key_hash in self._orgs_with_keys():
            with self.context.session(write=False) as session:
                state = session.get(KeyState, (org_id, key_hash))
                closed = set(
                    session.exec(
                        select(col(ClosedDay.day)).where(ClosedDay.org_id == org_id, ClosedDay.key_hash == key_hash)
                    ).all()
                )
            if state is None:
                continue  # not seen yet: (b) records its baseline first
            start = max(first, state.first_seen_at.astimezone(UTC).date() + timedelta(days=1))
            day = start
            while day < today:
                if day not in closed:
                    self._close_day(report, org_id, org_name, key_hash, day, management.value)
                day += timedelta(days=1)

    def _close_day(
        self, report: SyncReport, org_id: int, org_name: str, key_hash: str, day: date, management_key: str
    ) -> None:
        begin = datetime.combine(day, time(0), tzinfo=UTC)
        end = begin + timedelta(days=1)
        with self.context.session(write=False) as session:
            if _pending_count(session, org_id, key_hash, begin, end):
                report.skipped.append(
                    _("{org}: {day} waits for pending calls").format(org=org_name, day=day.isoformat())
                )
                return
        rows = self.api.activity(management_key, day.isoformat(), key_hash)
        seen: dict[str, dict[str, Any]] = {}
        for row in rows:
            model = "openrouter/" + str(row.get("model"))
            total = seen.setdefault(model, {"usd": Decimal(0), "requests": 0, "prompt": 0, "completion": 0, "r": 0})
            total["usd"] += Decimal(str(row.get("usage") or 0))
            total["requests"] += int(row.get("requests") or 0)
            total["prompt"] += int(row.get("prompt_tokens") or 0)
            total["completion"] += int(row.get("completion_tokens") or 0)
            total["r"] += int(row.get("reasoning_tokens") or 0)
        with self.context.session() as session:
            if session.get(ClosedDay, (org_id, key_hash, day)) is not None:
                return  # closed by a run that finished meanwhile
            org = session.get(Organization, org_id)
            assert org is not None
            booked = _ledger_by_model(session, org_id, key_hash, begin, end)
            activity_total = sum((t["usd"] for t in seen.values()), Decimal(0))
            ledger_total = sum((b[0] for b in booked.values()), Decimal(0))
            moved = Decimal(0)
            for model in sorted(set(seen) | set(booked)):
                usd = to_money(seen.get(model, {}).get("usd", Decimal(0)))
                have, prompt, completion = booked.get(model, (Decimal(0), 0, 0))
                difference = usd - have
                if difference == 0:
                    continue
                activity = seen.get(model, {})
                ledger.record(
                    session,
                    org,
                    _reconcile_entry(
                        model,
                        difference,
                        key_hash,
                        at=end - timedelta(seconds=1),
                        prompt=int(activity.get("prompt", 0)) - prompt,
                        completion=int(activity.get("completion", 0)) - completion,
                        note=_(
                            "closed day {day}: OpenRouter's /activity says ${usd:f}, the ledger had ${have:f}"
                        ).format(day=day.isoformat(), usd=usd, have=have),
                    ),
                )
                moved += difference
            # What (b) already booked as unattributed outside spend moves into these models.
            unattributed = _unattributed_balance(session, org_id, key_hash)
            offset = min(max(moved, Decimal(0)), max(unattributed, Decimal(0)))
            if offset > 0:
                ledger.record(
                    session,
                    org,
                    _reconcile_entry(
                        UNATTRIBUTED,
                        -offset,
                        key_hash,
                        at=self.now(),
                        note=_("moved to the models of {day}").format(day=day.isoformat()),
                    ),
                )
            session.add(
                ClosedDay(
                    org_id=org_id,
                    key_hash=key_hash,
                    day=day,
                    activity_usd=to_money(activity_total),
                    ledger_usd=ledger_total,
                    difference_usd=to_money(activity_total) - ledger_total,
                    closed_at=self.now(),
                )
            )
        report.days_closed += 1
        report.day_differences_usd += moved

    # (b) --------------------------------------------------------------------------------------
    def _reconcile_keys(self, report: SyncReport) -> None:
        management = self.context.secrets.get("openrouter-management")
        for org_id, org_name, key_hash in self._orgs_with_keys():
            own = self.context.secrets.get(secret_name("openrouter", org_name))
            if management is not None:
                info = self.api.managed_key(management.value, key_hash)
                if info is None:
                    report.errors.append(
                        _("{org}: OpenRouter has no key {hash}…").format(org=org_name, hash=key_hash[:12])
                    )
                    continue
            elif own is not None and hash_of(own.value) == key_hash:
                info = self.api.key_info(own.value)
            else:
                report.skipped.append(_("{org}: its key is not in the secret store").format(org=org_name))
                continue
            counter = to_money(Decimal(str(info.get("usage") or 0)))
            with self.context.session() as session:
                org = session.get(Organization, org_id)
                assert org is not None
                now = self.now()
                total = _key_total(session, org_id, key_hash)
                state = session.get(KeyState, (org_id, key_hash))
                if state is None:  # first sight: what the key spent before is not this app's
                    session.add(
                        KeyState(
                            org_id=org_id,
                            key_hash=key_hash,
                            baseline_usd=max(counter - total, Decimal(0)),
                            last_usage_usd=counter,
                            first_seen_at=now,
                            checked_at=now,
                        )
                    )
                    continue
                state.last_usage_usd, state.checked_at = counter, now
                session.add(state)
                difference = counter - state.baseline_usd - total
                if difference < 0:
                    report.ledger_ahead_usd += -difference
                    continue
                if difference == 0:
                    continue
                if _pending_count(session, org_id, key_hash, None, None):
                    report.skipped.append(_("{org}: waits for pending calls").format(org=org_name))
                    continue
                ledger.record(
                    session,
                    org,
                    _reconcile_entry(
                        UNATTRIBUTED,
                        difference,
                        key_hash,
                        at=now,
                        note=_("spend on the org's OpenRouter key made outside this app (key usage ${usage:f})").format(
                            usage=counter
                        ),
                    ),
                )
                report.outside_spend_usd += difference

    def _orgs_with_keys(self) -> Iterator[tuple[int, str, str]]:
        with self.context.session(write=False) as session:
            orgs = session.exec(select(Organization).where(col(Organization.openrouter_key_hash).is_not(None))).all()
            found = [(o.id or 0, o.name, o.openrouter_key_hash or "") for o in orgs]
        yield from found

    def _finish(self, report: SyncReport, started: datetime) -> None:
        interval = self.context.settings.openrouter_usage_sync_interval
        with self.context.session() as session:
            row = _status_row(session)
            row.last_run_at = started
            row.next_run_at = self.now() + timedelta(seconds=interval)
            row.last_result = json.dumps(report.as_dict(), sort_keys=True)
            row.last_error = "; ".join(report.errors) or None
            row.updated_at = self.now()
            session.add(row)
        release_lease(self.context, self.owner)
        level = logging.WARNING if report.errors else logging.INFO
        log.log(level, "usage sync: %s", json.dumps(report.as_dict(), sort_keys=True))


# --- helpers ------------------------------------------------------------------------------------


def _reconcile_entry(
    model: str,
    usd: Decimal,
    key_hash: str,
    *,
    at: datetime,
    note: str,
    prompt: int = 0,
    completion: int = 0,
) -> LedgerEntry:
    return LedgerEntry(
        created_at=at,
        day=at.date(),
        org_id=0,
        kind=CallKind.RECONCILE.value,
        provider="openrouter",
        model=model,
        key_hash=key_hash,
        prompt_tokens=prompt,
        completion_tokens=completion,
        raw_cost_usd=usd,
        cost_source=CostSource.OPENROUTER_RECONCILE.value,
        note=note,
    )


def _from_generation(record: Any) -> dict[str, Any]:
    def number(*names: str) -> int:
        for name in names:
            value = record.get(name)
            if value is not None:
                return int(value)
        return 0

    cost = record.get("total_cost")
    if cost is None:
        cost = record.get("usage") or 0
    return {
        "prompt_tokens": number("native_tokens_prompt", "tokens_prompt"),
        "completion_tokens": number("native_tokens_completion", "tokens_completion"),
        "cached_tokens": number("native_tokens_cached"),
        "reasoning_tokens": number("native_tokens_reasoning"),
        "raw_cost_usd": Decimal(str(cost)),
        "cost_source": CostSource.OPENROUTER_GENERATION.value,
        "estimated": False,
        "price_snapshot": None,
        "note": None,
    }


def _given_up_note(note: str | None) -> str:
    return " ".join(filter(None, [note, _("OpenRouter had no record of it within the look-back: estimate kept")]))


def _pending_count(session: Session, org_id: int, key_hash: str, begin: datetime | None, end: datetime | None) -> int:
    query = (
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.org_id == org_id, LedgerEntry.key_hash == key_hash, col(LedgerEntry.pending).is_(True))
    )
    if begin is not None and end is not None:
        query = query.where(col(LedgerEntry.created_at) >= begin, col(LedgerEntry.created_at) < end)
    return int(session.exec(query).one())


def _key_total(session: Session, org_id: int, key_hash: str) -> Decimal:
    total = session.exec(
        select(func.sum(LedgerEntry.raw_cost_usd)).where(LedgerEntry.org_id == org_id, LedgerEntry.key_hash == key_hash)
    ).one()
    return total if total is not None else Decimal(0)


def _unattributed_balance(session: Session, org_id: int, key_hash: str) -> Decimal:
    total = session.exec(
        select(func.sum(LedgerEntry.raw_cost_usd)).where(
            LedgerEntry.org_id == org_id, LedgerEntry.key_hash == key_hash, LedgerEntry.model == UNATTRIBUTED
        )
    ).one()
    return total if total is not None else Decimal(0)


def _ledger_by_model(
    session: Session, org_id: int, key_hash: str, begin: datetime, end: datetime
) -> dict[str, tuple[Decimal, int, int]]:
    """(USD, prompt tokens, completion tokens) per model of the org's key in [begin, end),
    the unattributed bookings left out (they are what this closing replaces)."""
    rows = session.execute(  # sqlmodel's select() types at most four columns
        sql_select(
            col(LedgerEntry.model),
            func.sum(LedgerEntry.raw_cost_usd),
            func.sum(LedgerEntry.prompt_tokens),
            func.sum(LedgerEntry.completion_tokens),
        )
        .where(
            col(LedgerEntry.org_id) == org_id,
            col(LedgerEntry.key_hash) == key_hash,
            col(LedgerEntry.model) != UNATTRIBUTED,
            col(LedgerEntry.created_at) >= begin,
            col(LedgerEntry.created_at) < end,
        )
        .group_by(col(LedgerEntry.model))
    ).all()
    return {model: (usd or Decimal(0), int(p or 0), int(c or 0)) for model, usd, p, c in rows}


def sync_for(
    context: AppContext, *, days_back: int | None = None, sleep: Callable[[float], None] | None = None
) -> Sync:
    """A sync cycle against the configured OpenRouter (OPENROUTER_BASE_URL), with the
    configured look-back unless `days_back` is given."""
    from mai_tui.core.providers.registry import DEFAULT_BASE_URLS

    settings = context.settings
    base_url = str(settings.providers.openrouter.base_url or DEFAULT_BASE_URLS["openrouter"])
    api = OpenRouterAPI(base_url, timeout=settings.provider_timeout)
    if sleep is not None:
        api.sleep = sleep
    days = settings.openrouter_usage_sync_days_back if days_back is None else days_back
    return Sync(context, api, days_back=days)


def run_once(context: AppContext, actor: User, *, days_back: int | None = None) -> SyncReport:
    """One cycle now, for an admin (the TUI's "sync now" and background worker, `mai usage sync`)."""
    require_admin(actor)
    sync = sync_for(context, days_back=days_back)
    try:
        return sync.run()
    finally:
        sync.api.close()


def watch(
    context: AppContext,
    actor: User,
    *,
    days_back: int | None = None,
    on_report: Callable[[SyncReport], None] | None = None,
    wait: Callable[[float], bool] | None = None,
) -> None:
    """Run a cycle every OPENROUTER_USAGE_SYNC_INTERVAL seconds until `wait` says stop.

    `wait(seconds)` sleeps and returns True to stop (default: sleep until interrupted),
    e.g. `threading.Event().wait` for a worker that can be told to stop.
    """
    interval = float(context.settings.openrouter_usage_sync_interval)
    pause = wait or _sleep_forever_step
    while True:
        report = run_once(context, actor, days_back=days_back)
        if on_report is not None:
            on_report(report)
        if pause(interval):
            return


def _sleep_forever_step(seconds: float) -> bool:
    import time as clock

    clock.sleep(seconds)
    return False
