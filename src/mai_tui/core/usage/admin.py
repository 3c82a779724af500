"""Admin operations on the books: manual records, clearing usage, resetting everything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, delete, func
from sqlmodel import Session, select

from mai_tui.core.accounts import get_user, require_admin
from mai_tui.core.errors import InvalidInput
from mai_tui.core.store.models import (
    CallKind,
    ClosedDay,
    CostSource,
    DailyUsage,
    KeyState,
    LedgerEntry,
    SyncStatus,
    User,
)
from mai_tui.core.store.types import utcnow
from mai_tui.core.usage import ledger
from mai_tui.core.usage.billing import payer
from mai_tui.core.usage.orgs import get_org, parse_decimal
from mai_tui.i18n import _


@dataclass(frozen=True)
class ManualRecord:
    model: str
    cost_usd: str | Decimal
    tokens: int | None = None  # the total, when the input/output split is not known
    input_tokens: int | None = None
    output_tokens: int | None = None
    org: str | None = None  # default: the user's org (or `personal`)
    user: str | None = None
    note: str | None = None
    at: datetime | None = None


def record_manual(session: Session, actor: User, record: ManualRecord) -> LedgerEntry:
    """An admin's manual ledger row (source `manual`). A token total without a split stays a
    total: no input/output split is ever guessed."""
    require_admin(actor)
    cost = parse_decimal(record.cost_usd, _("cost"), minimum=Decimal(0), places=10)
    split = (record.input_tokens, record.output_tokens)
    if (split[0] is None) != (split[1] is None):
        raise InvalidInput(_("give both --input-tokens and --output-tokens, or neither"))
    if any(n is not None and n < 0 for n in (record.tokens, *split)):
        raise InvalidInput(_("token counts must be ≥ 0"))
    if split[0] is not None and split[1] is not None:
        if record.tokens is not None and record.tokens != split[0] + split[1]:
            raise InvalidInput(
                _("--tokens {tokens} is not --input-tokens + --output-tokens ({sum})").format(
                    tokens=record.tokens, sum=split[0] + split[1]
                )
            )
    elif record.tokens is None:
        raise InvalidInput(_("give --tokens, or --input-tokens and --output-tokens"))
    model = record.model.strip()
    if not model:
        raise InvalidInput(_("give the model (--model PROVIDER/MODEL)"))
    user = get_user(session, record.user) if record.user else None
    if record.org:
        org = get_org(session, record.org)
    elif user is not None:
        org = payer(session, user)
    else:
        org = payer(session, actor)
    at = record.at or utcnow()
    entry = LedgerEntry(
        created_at=at,
        day=at.date(),
        org_id=org.id or 0,
        user_id=user.id if user else None,
        kind=CallKind.MANUAL.value,
        provider=model.partition("/")[0] if "/" in model else "manual",
        model=model,
        prompt_tokens=split[0] or 0,
        completion_tokens=split[1] or 0,
        unsplit_tokens=record.tokens if split[0] is None and record.tokens is not None else 0,
        raw_cost_usd=cost,
        cost_source=CostSource.MANUAL.value,
        note=_("recorded by {admin}").format(admin=actor.name) + (f": {record.note}" if record.note else ""),
    )
    return ledger.record(session, org, entry)


USAGE_TABLES = (LedgerEntry, DailyUsage, ClosedDay, KeyState, SyncStatus)


def count_usage(session: Session) -> dict[str, int]:
    return {
        table.__tablename__: int(session.exec(select(func.count()).select_from(table)).one()) for table in USAGE_TABLES
    }


def clean_usage(session: Session, actor: User) -> dict[str, int]:
    """Remove the ledger, rollups and sync state (orgs, users, prices and config stay); how
    many rows each table lost."""
    require_admin(actor)
    removed = count_usage(session)
    for table in USAGE_TABLES:
        session.exec(delete(table))
    return removed


def reset_everything(engine: Engine, actor: User) -> dict[str, int]:
    """Empty every table (the schema stays at its revision): rows removed per table.

    Keys in the secret store and the config file are left alone."""
    require_admin(actor)
    from sqlalchemy import MetaData, text

    from mai_tui.core.store.engine import session_scope

    metadata = MetaData()
    removed: dict[str, int] = {}
    with session_scope(engine, write=True) as session:
        connection = session.connection()
        metadata.reflect(connection)
        tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
        for table in reversed(tables):  # children before parents
            removed[table.name] = int(connection.execute(text(f"SELECT COUNT(*) FROM {table.name}")).scalar_one())
            connection.execute(table.delete())
    return removed
