"""Reading the ledger: today and this month for an org, reports by day/model/user/org,
monthly statements, 30-day series. Everything reads the daily rollups (one indexed range
per org), never the whole ledger. Amounts are USD; `in_currency` converts for display."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from mai_tui.core.errors import InvalidInput
from mai_tui.core.store.models import ClosedDay, CostSource, DailyUsage, LedgerEntry, Organization, User
from mai_tui.core.store.types import utcnow
from mai_tui.core.usage import ledger
from mai_tui.i18n import _


def visible_org(session: Session, actor: User, name: str) -> Organization:
    """The org named `name`, if `actor` may see its usage: admins every org, members their own."""
    from mai_tui.core.errors import PermissionDenied
    from mai_tui.core.store.models import Role
    from mai_tui.core.usage.billing import payer
    from mai_tui.core.usage.orgs import get_org

    org = get_org(session, name)
    if actor.role != Role.ADMIN and payer(session, actor).id != org.id:
        raise PermissionDenied(_("only admins and members of '{org}' may see its usage").format(org=name))
    return org


def in_currency(org: Organization, usd: Decimal) -> Decimal:
    """`usd` in the org's display currency, at the rate its admin set (cents, half-even)."""
    return (usd * org.exchange_rate).quantize(Decimal("0.01"))


def org_today(org: Organization, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(org.timezone)).date()


@dataclass(frozen=True)
class Live:
    """Today (in the org's timezone) and this month, for one org."""

    org: str
    day: date
    today: ledger.Totals
    month: ledger.Totals
    monthly_limit_usd: Decimal | None
    currency: str
    exchange_rate: Decimal

    @property
    def limit_share(self) -> Decimal | None:
        if not self.monthly_limit_usd:
            return None
        return self.month.billed_cost_usd / self.monthly_limit_usd


def today(session: Session, org: Organization, now: datetime | None = None) -> tuple[date, ledger.Totals]:
    """The org's day and its totals so far (`usage live`): one indexed read of one day."""
    assert org.id is not None
    day = org_today(org, now)
    return day, ledger.rollup_totals(session, org.id, day, day)


def live(session: Session, org: Organization, now: datetime | None = None) -> Live:
    """Today and this month (the usage screen's header and limit bar)."""
    assert org.id is not None
    today = org_today(org, now)
    day, month = ledger.period_totals(session, org.id, today.replace(day=1), today, today)
    return Live(
        org.name,
        today,
        day,
        month,
        org.monthly_limit_usd,
        org.currency,
        org.exchange_rate,
    )


class GroupBy(StrEnum):
    DAY = "day"
    MODEL = "model"
    USER = "user"
    ORG = "org"


def _sum_columns() -> list[Any]:
    table = DailyUsage
    names = ("requests", "prompt_tokens", "completion_tokens", "unsplit_tokens", "raw_cost_usd", "billed_cost_usd")
    return [func.sum(getattr(table, name)) for name in names]


def _sums(values: Sequence[Any]) -> dict[str, Any]:
    """The keyword arguments of `Sums` from the values of `_sum_columns()`, in order."""
    requests, prompt, completion, unsplit, raw, billed = values
    return {
        "requests": int(requests or 0),
        "prompt_tokens": int(prompt or 0),
        "completion_tokens": int(completion or 0),
        "unsplit_tokens": int(unsplit or 0),
        "raw_cost_usd": raw if raw is not None else Decimal(0),
        "billed_cost_usd": billed if billed is not None else Decimal(0),
    }


@dataclass(frozen=True, kw_only=True)
class ReportRow(ledger.Sums):
    key: str  # the day (ISO), model, user name or org name


def report(
    session: Session, first: date, last: date, by: GroupBy, *, org: Organization | None = None
) -> list[ReportRow]:
    """Sums over first..last (each org's own days), grouped; biggest cost first except by day."""
    if last < first:
        raise InvalidInput(_("the report ends ({last}) before it starts ({first})").format(first=first, last=last))
    table = DailyUsage
    group = {
        GroupBy.DAY: col(table.day),
        GroupBy.MODEL: col(table.model),
        GroupBy.USER: func.coalesce(col(User.name), "-"),
        GroupBy.ORG: col(Organization.name),
    }[by]
    query = (
        sql_select(group, *_sum_columns())
        .select_from(table)
        .where(col(table.day) >= first, col(table.day) <= last)
        .group_by(group)
    )
    if by is GroupBy.USER:
        query = query.outerjoin(User, col(User.id) == col(table.user_id))
    if by is GroupBy.ORG:
        query = query.join(Organization, col(Organization.id) == col(table.org_id))
    if org is not None:
        query = query.where(col(table.org_id) == org.id)
    rows = [
        ReportRow(key=key.isoformat() if isinstance(key, date) else str(key), **_sums(values))
        for key, *values in session.execute(query).all()
    ]
    if by is GroupBy.DAY:
        return sorted(rows, key=lambda r: r.key)
    return sorted(rows, key=lambda r: (-r.billed_cost_usd, r.key))


def parse_day(text: str, what: str) -> date:
    """A YYYY-MM-DD date typed by a person; InvalidInput naming the field otherwise."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(
            _("{what}: '{text}' is not a date; use YYYY-MM-DD, e.g. 2025-06-01").format(what=what, text=text)
        ) from None


def parse_month(text: str) -> tuple[date, date]:
    try:
        first = datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise InvalidInput(_("'{text}' is not a month: use YYYY-MM").format(text=text)) from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True, kw_only=True)
class StatementLine(ledger.Sums):
    model: str
    user: str


@dataclass(frozen=True)
class Statement:
    org: str
    month: str
    first: date
    last: date
    currency: str
    exchange_rate: Decimal
    lines: Sequence[StatementLine]

    @property
    def raw_cost_usd(self) -> Decimal:
        return sum((line.raw_cost_usd for line in self.lines), Decimal(0))

    @property
    def billed_cost_usd(self) -> Decimal:
        return sum((line.billed_cost_usd for line in self.lines), Decimal(0))


def statement(session: Session, org: Organization, month: str) -> Statement:
    """The month's invoice lines (the org's days) per model and user: raw, markup, billed."""
    first, last = parse_month(month)
    table = DailyUsage
    user = func.coalesce(col(User.name), "-")
    query = (
        sql_select(col(table.model), user, *_sum_columns())
        .select_from(table)
        .outerjoin(User, col(User.id) == col(table.user_id))
        .where(col(table.org_id) == org.id, col(table.day) >= first, col(table.day) <= last)
        .group_by(col(table.model), user)
        .order_by(col(table.model), user)
    )
    lines = [
        StatementLine(model=str(model), user=str(name), **_sums(values))
        for model, name, *values in session.execute(query).all()
    ]
    return Statement(org.name, month.strip(), first, last, org.currency, org.exchange_rate, lines)


@dataclass(frozen=True)
class DayPoint:
    day: date
    billed_cost_usd: Decimal
    tokens: int


def daily_series(session: Session, org: Organization, days: int = 30, now: datetime | None = None) -> list[DayPoint]:
    """One point per day of the last `days` days (the org's), zero where nothing was used."""
    last = org_today(org, now)
    first = last - timedelta(days=days - 1)
    by_day = {row.key: row for row in report(session, first, last, GroupBy.DAY, org=org)}
    points = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day.isoformat())
        points.append(
            DayPoint(
                day,
                row.billed_cost_usd if row else Decimal(0),
                row.tokens if row else 0,
            )
        )
    return points


def reconciliations(session: Session, org: Organization, first: date, last: date) -> list[LedgerEntry]:
    """The reconciliation rows of the org in first..last: differences to look at."""
    return list(
        session.exec(
            select(LedgerEntry)
            .where(
                LedgerEntry.org_id == org.id,
                LedgerEntry.cost_source == CostSource.OPENROUTER_RECONCILE.value,
                col(LedgerEntry.day) >= first,
                col(LedgerEntry.day) <= last,
            )
            .order_by(col(LedgerEntry.created_at).desc())
        ).all()
    )


def closed_days(session: Session, org: Organization, limit: int = 30) -> list[ClosedDay]:
    return list(
        session.exec(
            select(ClosedDay).where(ClosedDay.org_id == org.id).order_by(col(ClosedDay.day).desc()).limit(limit)
        ).all()
    )


SUM_COLUMNS = ("requests", "prompt_tokens", "completion_tokens", "other_tokens", "raw_cost_usd", "markup_usd")


def _csv(header: Sequence[str], rows: Sequence[tuple[Sequence[object], ledger.Sums]]) -> str:
    """Rows of leading values and their sums as CSV; USD as exact decimal strings."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*header, *SUM_COLUMNS, "billed_cost_usd"))
    for leading, sums in rows:
        writer.writerow(
            (
                *leading,
                sums.requests,
                sums.prompt_tokens,
                sums.completion_tokens,
                sums.unsplit_tokens,
                f"{sums.raw_cost_usd:f}",
                f"{sums.markup_usd:f}",
                f"{sums.billed_cost_usd:f}",
            )
        )
    return out.getvalue()


def report_csv(rows: Sequence[ReportRow], by: GroupBy) -> str:
    """A report as CSV; the first column is named after `by`."""
    return _csv((by.value,), [((row.key,), row) for row in rows])


def statement_csv(statement: Statement) -> str:
    """The statement's lines as CSV."""
    return _csv(("model", "user"), [((line.model, line.user), line) for line in statement.lines])


def statement_in_currency(statement: Statement) -> str | None:
    """The total in the org's display currency at its set rate; None for USD orgs."""
    if statement.currency == "USD":
        return None
    total = (statement.billed_cost_usd * statement.exchange_rate).quantize(Decimal("0.01"))
    return _("In {currency} at {rate} per USD: {total}").format(
        currency=statement.currency, rate=statement.exchange_rate, total=total
    )
