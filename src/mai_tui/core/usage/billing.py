"""Who pays for a model call, whether they may make it, and the ledger row it leaves.

A user's calls are paid by their organization (or `personal` when they belong to none).
Before a call: the org's monthly limit (admins may override) and requests-per-minute limit.
After it: one ledger row in the same transaction as the stored answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from mai_tui.core.errors import MaiError
from mai_tui.core.providers.events import Answer, Usage
from mai_tui.core.secrets import SecretStore, openrouter_key
from mai_tui.core.store.models import CallKind, CostSource, LedgerEntry, Organization, Role, User
from mai_tui.core.store.types import utcnow
from mai_tui.core.usage import ledger, prices
from mai_tui.core.usage.orgs import ensure_personal_org
from mai_tui.i18n import _

WARN_AT = Decimal("0.8")  # share of the monthly limit at which users are warned
CHARS_PER_TOKEN = 4  # only for estimating a call that ended before the provider said what it used


class BudgetExceeded(MaiError):
    """The org's monthly limit or request rate is reached (exit code 1)."""


def payer(session: Session, user: User) -> Organization:
    """The organization that pays for `user`'s calls."""
    org = session.get(Organization, user.org_id) if user.org_id is not None else None
    return org if org is not None else ensure_personal_org(session)


def month_bounds(org: Organization, now: datetime) -> tuple[date, date]:
    today = now.astimezone(ZoneInfo(org.timezone)).date()
    return today.replace(day=1), today


def month_to_date(session: Session, org: Organization, now: datetime | None = None) -> Decimal:
    """What the org has been billed this month (its timezone), in USD."""
    assert org.id is not None
    first, last = month_bounds(org, now or utcnow())
    return ledger.rollup_totals(session, org.id, first, last).billed_cost_usd


def check_spending(
    session: Session, org: Organization, user: User, *, override: bool = False, now: datetime | None = None
) -> str | None:
    """Refuse a call the org cannot make now; a warning text when it is close to its limit."""
    now = now or utcnow()
    if not org.active:
        raise BudgetExceeded(
            _("{org} is inactive: an admin can turn it back on (mai orgs set {org} --active)").format(org=org.name)
        )
    if org.requests_per_minute is not None:
        recent = session.exec(
            select(func.count())
            .select_from(LedgerEntry)
            .where(
                LedgerEntry.org_id == org.id,
                col(LedgerEntry.created_at) > now - timedelta(seconds=60),
                col(LedgerEntry.kind).not_in([CallKind.MANUAL.value, CallKind.RECONCILE.value]),
            )
        ).one()
        if recent >= org.requests_per_minute:
            raise BudgetExceeded(
                _("{org} allows {n} requests per minute: wait a moment and try again").format(
                    org=org.name, n=org.requests_per_minute
                )
            )
    limit = org.monthly_limit_usd
    if limit is None:
        return None
    spent = month_to_date(session, org, now)
    if spent >= limit:
        if override and user.role == Role.ADMIN:
            return _("{org} is over its monthly limit (${spent:f} of ${limit:f}): sent anyway (admin).").format(
                org=org.name, spent=spent, limit=limit
            )
        hint = _(" (an admin can send anyway)") if user.role == Role.ADMIN else ""
        raise BudgetExceeded(
            _("{org} has reached its monthly limit: ${spent:f} of ${limit:f}{hint}").format(
                org=org.name, spent=spent, limit=limit, hint=hint
            )
        )
    if limit > 0 and spent >= limit * WARN_AT:
        return _("{org} has used {share}% of its monthly limit (${spent:f} of ${limit:f}).").format(
            org=org.name, share=int(spent * 100 / limit), spent=spent, limit=limit
        )
    return None


@dataclass(frozen=True)
class Billing:
    """Everything the ledger row of one call needs, fixed when the call is prepared."""

    org_id: int
    org_name: str
    user_id: int | None
    kind: CallKind
    provider: str
    model: str  # provider/model
    conversation_id: int | None
    started_at: datetime
    prompt_chars: int
    key_hash: str | None = None  # the org's own OpenRouter key, when the call uses it


def billing_for(
    session: Session,
    secrets: SecretStore,
    user: User,
    *,
    kind: CallKind,
    provider: str,
    model: str,
    conversation_id: int | None,
    prompt_chars: int,
) -> Billing:
    org = payer(session, user)
    assert org.id is not None
    own_hash = openrouter_key(secrets, org.name)[1] if provider == "openrouter" else None
    return Billing(org.id, org.name, user.id, kind, provider, model, conversation_id, utcnow(), prompt_chars, own_hash)


def cost_of(session: Session, provider: str, model: str, usage: Usage, day: date) -> tuple[Decimal, str | None]:
    """A price-table estimate of `usage` on `model` ("provider/model"): (USD, snapshot JSON)."""
    model_id = model.partition("/")[2] or model
    price = prices.price_on(session, provider, model_id, day)
    if price is None:
        return Decimal(0), None
    return price.cost(usage), ledger.snapshot(price.as_dict())


def charge(
    session: Session, billing: Billing, answer: Answer, *, message_id: int | None, prefix: str = ""
) -> LedgerEntry | None:
    """The ledger row for one finished, stopped or failed call; None when nothing was used.

    The provider's reported cost is taken as is. Without one, the price table estimates it
    (row marked estimated); without usage at all (a stream stopped early), the tokens are
    estimated from the text too. An OpenRouter call with a generation id but no usage is
    left `pending` for the sync to complete from OpenRouter's own record.
    """
    org = session.get(Organization, billing.org_id)
    assert org is not None
    new_text = answer.text[len(prefix) :] if prefix and answer.text.startswith(prefix) else answer.text
    usage = answer.usage
    generation_id = answer.generation_id
    if usage is None and not new_text and not answer.reasoning and generation_id is None:
        return None  # refused or failed before anything was generated: nothing to bill
    reused = None
    if generation_id is not None:
        existing = ledger.find_generation(session, billing.provider, generation_id)
        if existing is not None and existing.message_id == message_id and message_id is not None:
            return existing  # this very answer was billed already
        if existing is not None:  # a server that reuses ids (local OpenAI-compatible ones do): bill anyway
            reused, generation_id = generation_id, None
    entry = LedgerEntry(
        created_at=billing.started_at,
        day=billing.started_at.date(),
        org_id=billing.org_id,
        user_id=billing.user_id,
        conversation_id=billing.conversation_id,
        message_id=message_id,
        kind=billing.kind.value,
        provider=billing.provider,
        model=billing.model,
        generation_id=generation_id,
        key_hash=billing.key_hash,
        cost_source=CostSource.PROVIDER.value,
    )
    if usage is None:
        usage = Usage(
            prompt_tokens=-(-billing.prompt_chars // CHARS_PER_TOKEN),
            completion_tokens=-(-len(new_text + answer.reasoning) // CHARS_PER_TOKEN),
        )
        entry.note = _("tokens estimated from the text: the answer ended before the provider reported usage")
        entry.pending = billing.provider == "openrouter" and generation_id is not None
    entry.prompt_tokens = usage.prompt_tokens
    entry.completion_tokens = usage.completion_tokens
    entry.cached_tokens = usage.cached_tokens
    entry.cache_write_tokens = usage.cache_write_tokens
    entry.reasoning_tokens = usage.reasoning_tokens
    if reused is not None:
        entry.note = " ".join(filter(None, [entry.note, _("the provider reused id {id}").format(id=reused)]))
    if usage.cost_usd is not None and answer.usage is not None:
        entry.raw_cost_usd = usage.cost_usd
    else:
        entry.cost_source = CostSource.PRICE_TABLE.value
        entry.estimated = True
        entry.raw_cost_usd, entry.price_snapshot = cost_of(
            session, billing.provider, billing.model, usage, billing.started_at.date()
        )
        if entry.price_snapshot is None:
            entry.note = " ".join(filter(None, [entry.note, _("no price known for this model: cost 0")]))
    return ledger.record(session, org, entry)
