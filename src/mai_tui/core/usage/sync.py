"""The OpenRouter usage sync: what the seed's background service should have been.

One cycle, under a database lease so two running instances never sync at once:
(a) ledger rows whose stream broke before usage arrived are completed from
    `GET /generation?id=` (404 right after a call is normal: tried again next cycle);
(b) each org's own key's cumulative usage (`GET /key`, or `/keys/{hash}` with a management
    key) is compared with the ledger, and spend made outside this app is recorded;
(c) with a management key, each finished UTC day of an org's own key is closed against
    `GET /activity?date=&api_key_hash=`, per model, and any difference recorded.
Every correction is an explicit `openrouter_reconcile` ledger row, written in the same
transaction as the state that marks it done, so a cycle run twice (or killed and rerun)
never counts anything twice.

Timing rules that keep it exact:
- Every row is dated when its spend happened: a call when it started, a booking at the
  counter reading that showed it, a closed day's correction on that day.
- (b) compares the counter read in the *previous* cycle with the ledger rows dated up to
  that reading (calls in flight then have been written since), so a call is never booked
  as outside spend just because its row was not committed yet. The key's first reading
  becomes a baseline (its spend before this app) one cycle later, once no call of that
  time is still pending.
- (b) books outside spend as model `openrouter/(unattributed)` when it is seen; (c) later
  moves it to the models `/activity` names for that day, reversing the unattributed
  booking at the booking's own time, so each day (and invoice month) keeps its spend.
- (c) closes a UTC day only CLOSE_AFTER its end (and two sync intervals: late rows and
  bookings written, OpenRouter's day complete), and not while a call of that day is pending
  or `/activity` has nothing for a day the ledger has spend on.
- The lease is renewed before every item; a cycle that lost it stops.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from mai_tui.core.accounts import require_admin
from mai_tui.core.context import AppContext
from mai_tui.core.secrets import key_hash as hash_of
from mai_tui.core.secrets import secret_name
from mai_tui.core.store.models import (
    ClosedDay,
    KeyState,
    LedgerEntry,
    Organization,
    User,
)
from mai_tui.core.store.types import to_money, utcnow
from mai_tui.core.usage import ledger
from mai_tui.core.usage.lease import (
    acquire_lease,
    owner_name,
    release_lease,
    status_row,
)
from mai_tui.core.usage.openrouter_api import OpenRouterAPI, SyncError
from mai_tui.core.usage.reconcile import (
    UNATTRIBUTED,
    Activity,
    Booked,
    from_generation,
    given_up_note,
    key_total,
    ledger_by_model,
    pending_count,
    reconcile_entry,
    reverse_unattributed,
)
from mai_tui.i18n import _

log = logging.getLogger(__name__)

CLOSE_AFTER = timedelta(hours=3)  # a finished UTC day is closed this long after its end
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


# --- one cycle --------------------------------------------------------------------------------


class LeaseLost(SyncError):
    """Another instance took the lease (this cycle overran it): stop, leave the rest to it."""


@dataclass(frozen=True)
class OrgKey:
    org_id: int
    org_name: str
    key_hash: str
    key: str | None  # the plaintext, when the secret store still holds it


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
            self._reconcile_keys(report)
            self._close_days(report)
        except SyncError as error:  # OpenRouter keeps refusing, or the lease was lost: next cycle
            report.errors.append(str(error))
        except Exception as error:  # a bug or a database failure: recorded as such, never as a success
            log.exception("usage sync failed")
            report.errors.append(f"{type(error).__name__}: {error}".splitlines()[0])
        finally:
            self._finish(report, started)
        return report

    def _renew(self) -> None:
        holder = acquire_lease(self.context, self.owner, self.now())
        if holder is not None:
            raise LeaseLost(_("the sync lease passed to {owner}: stopped").format(owner=holder))

    # (a) --------------------------------------------------------------------------------------
    def _fill_pending(self, report: SyncReport) -> None:
        horizon = self.now() - timedelta(days=max(self.days_back, 1))
        with self.context.session(write=False) as session:
            rows = session.exec(
                select(LedgerEntry.id).where(col(LedgerEntry.pending).is_(True), LedgerEntry.provider == "openrouter")
            ).all()
        for row_id in rows:
            self._renew()
            with self.context.session(write=False) as session:
                entry = session.get(LedgerEntry, row_id)
                if entry is None or not entry.pending or entry.generation_id is None:
                    continue
                key, generation_id, created_at = self._key_for(session, entry), entry.generation_id, entry.created_at
            if key is None:
                report.skipped.append(_("no OpenRouter key to look up {id}").format(id=generation_id))
                continue
            try:
                record = self.api.generation(key, generation_id)
            except LeaseLost:
                raise
            except SyncError as error:
                report.errors.append(str(error))
                continue
            with self.context.session() as session:
                entry = _locked(session, select(LedgerEntry).where(LedgerEntry.id == row_id))
                if entry is None or not entry.pending:
                    continue  # done meanwhile
                if record is not None:
                    ledger.amend(session, entry, pending=False, **from_generation(record))
                    report.filled += 1
                elif created_at < horizon:  # looked up once more, still unknown: the estimate stays
                    ledger.amend(session, entry, pending=False, note=given_up_note(entry.note))
                    report.given_up += 1
                else:
                    report.still_pending += 1

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
        now = self.now().astimezone(UTC)
        oldest = now.date() - timedelta(days=MAX_ACTIVITY_DAYS)
        wait = max(CLOSE_AFTER, 2 * timedelta(seconds=self.context.settings.openrouter_usage_sync_interval))
        for key in self._org_keys():
            with self.context.session(write=False) as session:
                state = session.get(KeyState, (key.org_id, key.key_hash))
                closed = set(
                    session.exec(
                        select(col(ClosedDay.day)).where(
                            ClosedDay.org_id == key.org_id, ClosedDay.key_hash == key.key_hash
                        )
                    ).all()
                )
            if state is None or state.baseline_usd is None:
                continue  # no baseline yet: (b) sets it first
            day = max(oldest, state.first_seen_at.astimezone(UTC).date() + timedelta(days=1))
            # The key's last reading must come after the day: a reading from inside it would
            # later be compared with the day's corrections as well as its own bookings.
            while _day_end(day) + wait <= now and _day_end(day) <= state.checked_at:
                if day not in closed:
                    self._renew()
                    self._close_day(report, key, day, management.value)
                day += timedelta(days=1)

    def _close_day(self, report: SyncReport, key: OrgKey, day: date, management_key: str) -> None:
        begin, end = _day_end(day) - timedelta(days=1), _day_end(day)
        rows = self.api.activity(management_key, day.isoformat(), key.key_hash)
        seen: dict[str, Activity] = {}
        for row in rows:
            model = "openrouter/" + str(row.get("model"))
            seen.setdefault(model, Activity()).add(row)
        with self.context.session() as session:
            if session.get(ClosedDay, (key.org_id, key.key_hash, day)) is not None:
                return  # closed by a run that finished meanwhile
            if pending_count(session, key.org_id, key.key_hash, begin, end):
                report.skipped.append(
                    _("{org}: {day} waits for pending calls").format(org=key.org_name, day=day.isoformat())
                )
                return
            booked = ledger_by_model(session, key.org_id, key.key_hash, begin, end)
            ledger_total = sum((b.usd for b in booked.values()), Decimal(0))
            if not seen and ledger_total:
                report.skipped.append(
                    _("{org}: OpenRouter reports nothing yet for {day}").format(org=key.org_name, day=day.isoformat())
                )
                return
            org = session.get(Organization, key.org_id)
            assert org is not None
            activity_total = to_money(sum((a.usd for a in seen.values()), Decimal(0)))
            moved = Decimal(0)
            for model in sorted(set(seen) | set(booked)):
                activity = seen.get(model, Activity())
                have = booked.get(model, Booked())
                difference = to_money(activity.usd) - have.usd
                if difference == 0:
                    continue
                note = _("closed day {day}: OpenRouter's /activity says ${usd:f}, the ledger had ${have:f}")
                ledger.record(
                    session,
                    org,
                    reconcile_entry(
                        model,
                        difference,
                        key.key_hash,
                        at=end - timedelta(seconds=1),
                        prompt=activity.prompt - have.prompt,
                        completion=activity.completion - have.completion,
                        note=note.format(day=day.isoformat(), usd=to_money(activity.usd), have=have.usd),
                    ),
                    markup=have.markup,
                )
                moved += difference
            if moved > 0:
                reverse_unattributed(session, org, key.key_hash, moved, day)
            session.add(
                ClosedDay(
                    org_id=key.org_id,
                    key_hash=key.key_hash,
                    day=day,
                    activity_usd=activity_total,
                    ledger_usd=ledger_total,
                    difference_usd=activity_total - ledger_total,
                    closed_at=self.now(),
                )
            )
        report.days_closed += 1
        report.day_differences_usd += moved

    # (b) --------------------------------------------------------------------------------------
    def _reconcile_keys(self, report: SyncReport) -> None:
        management = self.context.secrets.get("openrouter-management")
        for key in self._org_keys():
            self._renew()
            if management is not None:
                info = self.api.managed_key(management.value, key.key_hash)
                if info is None:
                    missing = _("{org}: OpenRouter has no key {hash}…").format(org=key.org_name, hash=key.key_hash[:12])
                    report.errors.append(missing)
                    continue
            elif key.key is not None:
                info = self.api.key_info(key.key)
            else:
                report.skipped.append(_("{org}: its key is not in the secret store").format(org=key.org_name))
                continue
            self._compare(report, key, to_money(Decimal(str(info.get("usage") or 0))), self.now())

    def _compare(self, report: SyncReport, key: OrgKey, counter: Decimal, read_at: datetime) -> None:
        """Book what the previous reading of the key's counter shows beyond the ledger."""
        with self.context.session() as session:
            state = _locked(
                session, select(KeyState).where(KeyState.org_id == key.org_id, KeyState.key_hash == key.key_hash)
            )
            if state is None:  # first sight: remember the reading; the baseline follows next cycle
                session.add(
                    KeyState(
                        org_id=key.org_id,
                        key_hash=key.key_hash,
                        baseline_usd=None,
                        last_usage_usd=counter,
                        first_seen_at=read_at,
                        checked_at=read_at,
                    )
                )
                return
            previous, previous_at = state.last_usage_usd, state.checked_at
            if pending_count(session, key.org_id, key.key_hash, None, previous_at + timedelta(seconds=1)):
                report.skipped.append(_("{org}: waits for pending calls").format(org=key.org_name))
                return  # keep the old reading: it is compared once those calls are complete
            state.last_usage_usd, state.checked_at = counter, read_at
            session.add(state)
            total = key_total(session, key.org_id, key.key_hash, before=previous_at)
            if state.baseline_usd is None:  # what the key had spent before this app used it
                state.baseline_usd = max(previous - total, Decimal(0))
                return
            difference = previous - state.baseline_usd - total
            if difference < 0:  # e.g. estimates above the real cost: corrected when the day closes
                report.ledger_ahead_usd += -difference
                return
            if difference == 0:
                return
            org = session.get(Organization, key.org_id)
            assert org is not None
            note = _("spend on the org's OpenRouter key made outside this app (key usage ${usage:f})")
            entry = reconcile_entry(  # dated at the reading that showed it
                UNATTRIBUTED, difference, key.key_hash, at=previous_at, note=note.format(usage=previous)
            )
            entry.generation_id = f"outside-{uuid.uuid4().hex}"
            ledger.record(session, org, entry)
            report.outside_spend_usd += difference

    def _org_keys(self) -> list[OrgKey]:
        """Every org's current own key, and keys it used before (still reconciled by hash)."""
        secrets = self.context.secrets
        with self.context.session(write=False) as session:
            orgs = {o.id or 0: o for o in session.exec(select(Organization)).all()}
            hashes = {(o.id or 0, o.openrouter_key_hash) for o in orgs.values() if o.openrouter_key_hash}
            hashes |= {(s.org_id, s.key_hash) for s in session.exec(select(KeyState)).all()}
        found = []
        for org_id, key_hash in sorted(hashes):
            org = orgs.get(org_id)
            if org is None or key_hash is None:
                continue
            own = secrets.get(secret_name("openrouter", org.name))
            plaintext = own.value if own is not None and hash_of(own.value) == key_hash else None
            found.append(OrgKey(org_id, org.name, key_hash, plaintext))
        return found

    def _finish(self, report: SyncReport, started: datetime) -> None:
        interval = self.context.settings.openrouter_usage_sync_interval
        with self.context.session() as session:
            row = status_row(session)
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


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _locked(session: Session, query: Any) -> Any:
    """The one row of `query`, locked until commit (PostgreSQL/MySQL; SQLite writers queue anyway)."""
    return session.exec(query.with_for_update()).first()


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
