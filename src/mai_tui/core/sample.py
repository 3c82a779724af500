"""`mai db init`: the default organization, the current user, and optional sample data."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from mai_tui.core.accounts import find_user, require_admin
from mai_tui.core.store.models import Role, User
from mai_tui.core.usage.orgs import OrgChanges, add_org, ensure_personal_org, find_org

SAMPLE_ORGS: dict[str, OrgChanges] = {
    "acme": OrgChanges(markup_rate="1.3", monthly_limit_usd="500", currency="PLN", timezone="Europe/Warsaw"),
    "globex": OrgChanges(markup_rate="1.5", monthly_limit_usd="1000", currency="USD", timezone="America/New_York"),
    "initech": OrgChanges(markup_rate="1.2", currency="EUR", timezone="Europe/Berlin"),
}
SAMPLE_USERS: dict[str, tuple[str, str]] = {  # name -> (role, org)
    "alice": ("user", "acme"),
    "bob": ("user", "acme"),
    "carol": ("admin", "globex"),
    "dave": ("user", "initech"),
    "erin": ("pending", "initech"),
}


@dataclass
class InitReport:
    created_orgs: list[str] = field(default_factory=list)
    created_users: list[str] = field(default_factory=list)


def initialize(session: Session, actor: User, *, sample: bool) -> InitReport:
    """Create what is missing; running it twice changes nothing the second time."""
    report = InitReport()
    if find_org(session, "personal") is None:
        ensure_personal_org(session)
        report.created_orgs.append("personal")
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
    return report
