"""Ledger reads and correction rows for the OpenRouter sync: what a key's rows add up to,
what a closed day held per model, and the reconciliation rows themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from mai_tui.core.store.models import CallKind, CostSource, LedgerEntry, Organization
from mai_tui.core.usage import ledger
from mai_tui.i18n import _

UNATTRIBUTED = "openrouter/(unattributed)"


@dataclass
class Activity:
    """One model's line of OpenRouter's `/activity` for a day, summed over endpoints."""

    usd: Decimal = Decimal(0)
    prompt: int = 0
    completion: int = 0

    def add(self, row: Any) -> None:
        self.usd += Decimal(str(row.get("usage") or 0))
        self.prompt += int(row.get("prompt_tokens") or 0)
        self.completion += int(row.get("completion_tokens") or 0)


@dataclass
class Booked:
    """What the ledger held for one model on a day."""

    usd: Decimal = Decimal(0)
    prompt: int = 0
    completion: int = 0
    markup: Decimal | None = None  # of the day's calls: corrections are billed at the markup they had


def reconcile_entry(
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


def reverse_unattributed(session: Session, org: Organization, key_hash: str, amount: Decimal, day: date) -> None:
    """Take back up to `amount` of the key's unattributed bookings, oldest first, each at its
    own time and markup (the money now sits on its models' day)."""
    bookings = session.exec(
        select(LedgerEntry)
        .where(
            LedgerEntry.org_id == org.id,
            LedgerEntry.key_hash == key_hash,
            LedgerEntry.model == UNATTRIBUTED,
            col(LedgerEntry.generation_id).startswith("outside-"),
        )
        .order_by(col(LedgerEntry.created_at), col(LedgerEntry.id))
    ).all()
    left = amount
    for booking in bookings:
        if left <= 0:
            return
        reversed_so_far = session.exec(
            select(func.sum(LedgerEntry.raw_cost_usd)).where(
                col(LedgerEntry.generation_id).startswith(f"reverse-{booking.id}-")
            )
        ).one()
        remaining = booking.raw_cost_usd + (reversed_so_far or Decimal(0))
        take = min(remaining, left)
        if take <= 0:
            continue
        entry = reconcile_entry(
            UNATTRIBUTED,
            -take,
            key_hash,
            at=booking.created_at,
            note=_("moved to the models of {day}").format(day=day.isoformat()),
        )
        entry.generation_id = f"reverse-{booking.id}-{day.isoformat()}"
        ledger.record(session, org, entry, markup=booking.markup_rate)
        left -= take


def from_generation(record: Any) -> dict[str, Any]:
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


def given_up_note(note: str | None) -> str:
    return " ".join(filter(None, [note, _("OpenRouter had no record of it within the look-back: estimate kept")]))


def pending_count(session: Session, org_id: int, key_hash: str, begin: datetime | None, end: datetime | None) -> int:
    query = (
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.org_id == org_id, LedgerEntry.key_hash == key_hash, col(LedgerEntry.pending).is_(True))
    )
    if begin is not None:
        query = query.where(col(LedgerEntry.created_at) >= begin)
    if end is not None:
        query = query.where(col(LedgerEntry.created_at) < end)
    return int(session.exec(query).one())


def key_total(session: Session, org_id: int, key_hash: str, *, before: datetime) -> Decimal:
    """What the ledger holds for the key's spend up to `before` (the same second counts: MySQL
    keeps whole seconds, and counting a call too early only delays a booking). Every row is
    dated when its spend happened: a call when it started, a booking when the counter showed
    it, a closed day's correction on that day."""
    total = session.exec(
        select(func.sum(LedgerEntry.raw_cost_usd)).where(
            LedgerEntry.org_id == org_id,
            LedgerEntry.key_hash == key_hash,
            col(LedgerEntry.created_at) <= before,
        )
    ).one()
    return total if total is not None else Decimal(0)


def ledger_by_model(session: Session, org_id: int, key_hash: str, begin: datetime, end: datetime) -> dict[str, Booked]:
    """USD, tokens and markup per model of the org's key in [begin, end), the unattributed
    bookings left out (they are what this closing replaces)."""
    rows = session.execute(  # sqlmodel's select() types at most four columns
        sql_select(
            col(LedgerEntry.model),
            func.sum(LedgerEntry.raw_cost_usd),
            func.sum(LedgerEntry.prompt_tokens),
            func.sum(LedgerEntry.completion_tokens),
            func.max(LedgerEntry.markup_rate),
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
    return {model: Booked(usd or Decimal(0), int(p or 0), int(c or 0), markup) for model, usd, p, c, markup in rows}
