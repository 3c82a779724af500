"""`mai db init`: the default organization, the price table, the current user, and optional sample
organizations, users and a month of their usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from mai_tui.core.accounts import find_user, require_admin
from mai_tui.core.store.models import CallKind, CostSource, LedgerEntry, Organization, Role, User
from mai_tui.core.store.types import utcnow
from mai_tui.core.usage import ledger, prices
from mai_tui.core.usage.orgs import OrgChanges, add_org, ensure_personal_org, find_org

SAMPLE_ORGS: dict[str, OrgChanges] = {
    "acme": OrgChanges(
        markup_rate="1.3", monthly_limit_usd="500", currency="PLN", timezone="Europe/Warsaw", exchange_rate="3.65"
    ),
    "globex": OrgChanges(markup_rate="1.5", monthly_limit_usd="1000", currency="USD", timezone="America/New_York"),
    "initech": OrgChanges(markup_rate="1.2", currency="EUR", timezone="Europe/Berlin", exchange_rate="0.86"),
}
SAMPLE_USERS: dict[str, tuple[str, str]] = {  # name -> (role, org)
    "alice": ("user", "acme"),
    "bob": ("user", "acme"),
    "carol": ("admin", "globex"),
    "dave": ("user", "initech"),
    "erin": ("pending", "initech"),
}


SAMPLE_MODELS: tuple[tuple[str, int, int, str], ...] = (  # model, typical prompt, completion, USD per 1k tokens
    ("openrouter/openai/gpt-4o-mini", 900, 350, "0.00035"),
    ("openrouter/anthropic/claude-sonnet-4.5", 2400, 700, "0.0075"),
    ("openai/gpt-4.1", 1500, 500, "0.004"),
    ("gemini/gemini-2.5-flash", 1200, 600, "0.0011"),
)
SAMPLE_DAYS = 30


@dataclass
class InitReport:
    created_orgs: list[str] = field(default_factory=list)
    created_users: list[str] = field(default_factory=list)
    sample_calls: int = 0


def initialize(session: Session, actor: User, *, sample: bool, now: datetime | None = None) -> InitReport:
    """Create what is missing; running it twice changes nothing the second time."""
    report = InitReport()
    if find_org(session, "personal") is None:
        ensure_personal_org(session)
        report.created_orgs.append("personal")
    prices.ensure_seed(session)
    if not sample:
        return report
    require_admin(actor)
    orgs = {}
    for name, changes in SAMPLE_ORGS.items():
        org = find_org(session, name)
        if org is None:
            org = add_org(session, actor, name, changes)
            report.created_orgs.append(name)
        orgs[name] = org
    for name, (role, org_name) in SAMPLE_USERS.items():
        if find_user(session, name) is None:
            session.add(User(name=name, role=Role(role).value, org_id=orgs[org_name].id))
            report.created_users.append(name)
    session.flush()
    report.sample_calls = add_sample_usage(session, now or utcnow())
    return report


def add_sample_usage(session: Session, now: datetime, days: int = SAMPLE_DAYS) -> int:
    """A month of made-up calls by the sample users, the same every time (seeded), recorded
    through the ledger like real ones; nothing is added when sample usage exists already."""
    import random

    if session.exec(select(LedgerEntry.id).where(col(LedgerEntry.generation_id).startswith("sample-"))).first():
        return 0
    rng = random.Random(20261127)  # noqa: S311 - reproducible sample data, not security
    members = [
        (user, org)
        for user in session.exec(select(User).where(col(User.name).in_(SAMPLE_USERS))).all()
        if user.role != Role.PENDING
        for org in [session.get(Organization, user.org_id)]
        if org is not None
    ]
    added = 0
    for offset in range(days, -1, -1):
        for user, org in members:
            for _call in range(rng.randrange(0, 6)):
                model, prompt, completion, per_k = rng.choice(SAMPLE_MODELS)
                prompt_tokens = int(prompt * rng.uniform(0.3, 2.0))
                completion_tokens = int(completion * rng.uniform(0.3, 2.0))
                at = now - timedelta(days=offset, minutes=rng.randrange(0, 24 * 60))
                if at > now:
                    continue
                cost = (Decimal(per_k) * (prompt_tokens + completion_tokens) / 1000).quantize(Decimal("1e-10"))
                ledger.record(
                    session,
                    org,
                    LedgerEntry(
                        created_at=at,
                        day=at.date(),
                        org_id=org.id or 0,
                        user_id=user.id,
                        kind=CallKind.CHAT.value,
                        provider=model.partition("/")[0],
                        model=model,
                        generation_id=f"sample-{org.name}-{added}",
                        prompt_tokens=prompt_tokens,
                        completion_tokens=completion_tokens,
                        raw_cost_usd=cost,
                        cost_source=CostSource.PROVIDER.value,
                        note="sample",
                    ),
                )
                added += 1
    return added
