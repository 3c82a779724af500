"""The usage ledger: one row per model call, and daily rollups kept equal to it.

Every write goes through `record` (a new row) or `amend` (a row whose cost became known
later), which update the org × day × user × model rollup in the same transaction. The day
is the call's date in the org's timezone. Money is USD, exact to 1e-10 (`Money`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from mai_tui.core.store.models import CallKind, DailyUsage, LedgerEntry, Organization
from mai_tui.core.store.types import to_money, utcnow

SUMMED = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "unsplit_tokens",
)
MONEY = ("raw_cost_usd", "billed_cost_usd")
NO_USER = 0  # the rollup's user for rows that belong to no user (reconciliation)


def local_day(org: Organization, at: datetime) -> date:
    """The date of `at` in the org's timezone (what "today" means for its bill)."""
    return at.astimezone(ZoneInfo(org.timezone)).date()


def billed(raw: Decimal, markup: Decimal) -> Decimal:
    return to_money(raw * markup)


@dataclass(frozen=True)
class Delta:
    """What one write adds to a rollup (amendments may subtract)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    unsplit_tokens: int = 0
    raw_cost_usd: Decimal = Decimal(0)
    billed_cost_usd: Decimal = Decimal(0)

    @classmethod
    def of(cls, entry: LedgerEntry, *, requests: int) -> Delta:
        return cls(
            requests,
            entry.prompt_tokens,
            entry.completion_tokens,
            entry.cached_tokens,
            entry.cache_write_tokens,
            entry.reasoning_tokens,
            entry.unsplit_tokens,
            entry.raw_cost_usd,
            entry.billed_cost_usd,
        )

    @classmethod
    def of_rollup(cls, row: DailyUsage) -> Delta:
        return cls(*(getattr(row, name) for name in (*SUMMED, *MONEY)))

    def minus(self, other: Delta) -> Delta:
        return Delta(*(getattr(self, name) - getattr(other, name) for name in (*SUMMED, *MONEY)))


def _add_to_rollup(session: Session, entry: LedgerEntry, delta: Delta) -> None:
    """Upsert the rollup row of `entry`'s org, day, user and model, adding `delta` in SQL.

    The database adds (not Python), so concurrent writers on PostgreSQL/MySQL never lose an update.
    """
    table = DailyUsage.__table__  # type: ignore[attr-defined]
    values: dict[str, Any] = {
        "org_id": entry.org_id,
        "day": entry.day,
        "user_id": entry.user_id or NO_USER,
        "model": entry.model,
        "updated_at": utcnow(),
        **{name: getattr(delta, name) for name in (*SUMMED, *MONEY)},
    }
    dialect = session.get_bind().dialect.name
    if dialect == "mysql":
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        mysql = mysql_insert(table).values(**values)
        increments = {name: table.c[name] + mysql.inserted[name] for name in (*SUMMED, *MONEY)}
        statement: Any = mysql.on_duplicate_key_update(updated_at=mysql.inserted.updated_at, **increments)
    else:
        from sqlalchemy.dialects import postgresql, sqlite

        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        upsert: Any = insert(table).values(**values)
        increments = {name: table.c[name] + upsert.excluded[name] for name in (*SUMMED, *MONEY)}
        statement = upsert.on_conflict_do_update(
            index_elements=["org_id", "day", "user_id", "model"],
            set_={"updated_at": upsert.excluded.updated_at, **increments},
        )
    session.execute(statement)


def record(session: Session, org: Organization, entry: LedgerEntry, *, markup: Decimal | None = None) -> LedgerEntry:
    """Add one ledger row for `org` (its local day) and its rollup, billed at the org's markup
    in force now, or at `markup` (a correction of earlier calls keeps the markup they had)."""
    assert org.id is not None
    entry.org_id = org.id
    entry.day = local_day(org, entry.created_at)
    entry.markup_rate = markup if markup is not None else org.markup_rate
    entry.raw_cost_usd = to_money(entry.raw_cost_usd)
    entry.billed_cost_usd = billed(entry.raw_cost_usd, entry.markup_rate)
    session.add(entry)
    session.flush()
    _add_to_rollup(session, entry, Delta.of(entry, requests=requests_of(entry)))
    return entry


def requests_of(entry: LedgerEntry) -> int:
    """A reconciliation row corrects money; every other row is one request."""
    return 0 if entry.kind == CallKind.RECONCILE else 1


def amend(session: Session, entry: LedgerEntry, **changes: Any) -> LedgerEntry:
    """Change a row's tokens or cost (e.g. completed from OpenRouter's record) and move its
    rollup by the difference, in the same transaction. Markup and day stay as recorded."""
    before = Delta.of(entry, requests=0)
    for name, value in changes.items():
        setattr(entry, name, value)
    entry.raw_cost_usd = to_money(entry.raw_cost_usd)
    entry.billed_cost_usd = billed(entry.raw_cost_usd, entry.markup_rate)
    session.add(entry)
    session.flush()
    _add_to_rollup(session, entry, Delta.of(entry, requests=0).minus(before))
    return entry


def snapshot(prices: Mapping[str, Any]) -> str:
    return json.dumps({k: str(v) if isinstance(v, Decimal) else v for k, v in prices.items()}, sort_keys=True)


def find_generation(session: Session, provider: str, generation_id: str) -> LedgerEntry | None:
    return session.exec(
        select(LedgerEntry).where(LedgerEntry.provider == provider, LedgerEntry.generation_id == generation_id)
    ).first()


@dataclass(frozen=True, kw_only=True)
class Sums:
    """Rollups summed over some group: requests, tokens, and USD raw and billed."""

    requests: int
    prompt_tokens: int
    completion_tokens: int
    unsplit_tokens: int
    raw_cost_usd: Decimal
    billed_cost_usd: Decimal

    @property
    def markup_usd(self) -> Decimal:
        return self.billed_cost_usd - self.raw_cost_usd

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens + self.unsplit_tokens


@dataclass(frozen=True, kw_only=True)
class Totals(Sums):
    updated_at: datetime | None = None  # the newest rollup write counted


def rollup_totals(session: Session, org_id: int, first: date, last: date) -> Totals:
    """Sums of the org's rollups over the days first..last (inclusive): one indexed read."""
    return period_totals(session, org_id, first, last, last)[1]


def period_totals(session: Session, org_id: int, first: date, last: date, day: date) -> tuple[Totals, Totals]:
    """(totals of `day`, totals of first..last) in one indexed read: `usage live` in one query."""
    table = DailyUsage
    names = ("requests", "prompt_tokens", "completion_tokens", "unsplit_tokens", "raw_cost_usd", "billed_cost_usd")

    def on_day(column: Any) -> Any:
        return case((col(table.day) == day, column))

    columns: list[Any] = [func.sum(on_day(getattr(table, name))) for name in names]
    columns += [func.sum(getattr(table, name)) for name in names]
    columns += [func.max(on_day(col(table.updated_at))), func.max(table.updated_at)]
    row = session.execute(  # sqlmodel's select() types at most four columns
        sql_select(*columns).where(col(table.org_id) == org_id, col(table.day) >= first, col(table.day) <= last)
    ).one()

    def totals(values: Any, updated: datetime | None) -> Totals:
        requests, prompt, completion, unsplit = (int(v or 0) for v in values[:4])
        raw, paid = (v if v is not None else Decimal(0) for v in values[4:])
        return Totals(
            requests=requests,
            prompt_tokens=prompt,
            completion_tokens=completion,
            unsplit_tokens=unsplit,
            raw_cost_usd=raw,
            billed_cost_usd=paid,
            updated_at=updated,
        )

    return totals(row[0:6], row[12]), totals(row[6:12], row[13])


RollupKey = tuple[int, date, int, str]  # org, day, user (NO_USER for none), model


def rollup_mismatches(session: Session) -> dict[RollupKey, tuple[Delta, Delta]]:
    """Rollup rows that differ from the ledger summed the same way: (rollup, ledger) per key.

    Empty when the books are consistent; `mai doctor` and the tests check it.
    """
    user = func.coalesce(col(LedgerEntry.user_id), NO_USER)
    requests = func.sum(case((col(LedgerEntry.kind) == CallKind.RECONCILE.value, 0), else_=1))
    sums = [func.sum(getattr(LedgerEntry, name)) for name in (*SUMMED[1:], *MONEY)]
    query = sql_select(
        col(LedgerEntry.org_id), col(LedgerEntry.day), user, col(LedgerEntry.model), requests, *sums
    ).group_by(col(LedgerEntry.org_id), col(LedgerEntry.day), user, col(LedgerEntry.model))
    from_ledger: dict[RollupKey, Delta] = {}
    for org, day, user_id, model, n, *counts, raw, paid in session.execute(query).all():
        values: list[Any] = [int(n or 0), *(int(c or 0) for c in counts), raw or Decimal(0), paid or Decimal(0)]
        from_ledger[(org, day, int(user_id), model)] = Delta(*values)
    from_rollups = {
        (row.org_id, row.day, row.user_id, row.model): Delta.of_rollup(row)
        for row in session.exec(select(DailyUsage)).all()
    }
    zero = Delta()
    return {
        key: (from_rollups.get(key, zero), from_ledger.get(key, zero))
        for key in set(from_ledger) | set(from_rollups)
        if _normal(from_rollups.get(key, zero)) != _normal(from_ledger.get(key, zero))
    }


def _normal(delta: Delta) -> Delta:
    return Delta(*(getattr(delta, name) for name in SUMMED), *(to_money(getattr(delta, name)) for name in MONEY))
