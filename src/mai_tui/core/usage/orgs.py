"""Client organizations: who pays, at which markup, with which limit, in which timezone."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from mai_tui.core.accounts import check_name, get_user, require_admin
from mai_tui.core.errors import InvalidInput, NotFound
from mai_tui.core.secrets import Secret, SecretStore, Source, key_hash, secret_name
from mai_tui.core.store.models import DEFAULT_MARKUP, Organization, User
from mai_tui.i18n import _

PERSONAL_ORG = "personal"


@dataclass(frozen=True)
class OrgChanges:
    """What `add_org` / `set_org` may set; None leaves a value as it is."""

    markup_rate: str | Decimal | None = None
    monthly_limit_usd: str | Decimal | None = None
    currency: str | None = None
    timezone: str | None = None
    active: bool | None = None
    exchange_rate: str | Decimal | None = None  # units of `currency` per USD
    requests_per_minute: int | None = None  # 0 removes the limit


MAXIMUM = Decimal(1_000_000_000)  # above any real limit, rate or cost; keeps columns from overflowing


def parse_decimal(
    value: str | Decimal,
    what: str,
    *,
    minimum: Decimal,
    places: int,
    exclusive: bool = False,
    maximum: Decimal = MAXIMUM,
) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(_("{what}: '{value}' is not a number").format(what=what, value=value)) from None
    if not number.is_finite() or number < minimum or (exclusive and number == minimum):
        sign = ">" if exclusive else "≥"
        raise InvalidInput(_("{what} must be {sign} {minimum}").format(what=what, sign=sign, minimum=minimum))
    if number > maximum:
        raise InvalidInput(_("{what} must be ≤ {maximum}").format(what=what, maximum=maximum))
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise InvalidInput(_("{what}: at most {places} decimal places").format(what=what, places=places))
    return number


def check_currency(code: str) -> str:
    from babel.numbers import list_currencies

    code = code.strip().upper()
    if code not in list_currencies():
        raise InvalidInput(_("'{code}' is not an ISO 4217 currency code").format(code=code))
    return code


def check_timezone(name: str) -> str:
    name = name.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(_("'{name}' is not an IANA timezone (e.g. Europe/Warsaw)").format(name=name)) from None
    return name


def _apply(org: Organization, changes: OrgChanges) -> None:
    if changes.markup_rate is not None:
        org.markup_rate = parse_decimal(
            changes.markup_rate, _("markup rate"), minimum=Decimal(0), places=4, exclusive=True, maximum=Decimal(100)
        )
    if changes.monthly_limit_usd is not None:
        org.monthly_limit_usd = parse_decimal(
            changes.monthly_limit_usd, _("monthly limit"), minimum=Decimal(0), places=10
        )
    if changes.currency is not None:
        org.currency = check_currency(changes.currency)
    if changes.timezone is not None:
        org.timezone = check_timezone(changes.timezone)
    if changes.active is not None:
        org.active = changes.active
    if changes.exchange_rate is not None:
        org.exchange_rate = parse_decimal(
            changes.exchange_rate, _("exchange rate"), minimum=Decimal(0), places=10, exclusive=True
        )
    if changes.requests_per_minute is not None:
        if changes.requests_per_minute < 0:
            raise InvalidInput(_("requests per minute must be ≥ 0 (0: no limit)"))
        org.requests_per_minute = changes.requests_per_minute or None


def find_org(session: Session, name: str) -> Organization | None:
    return session.exec(select(Organization).where(Organization.name == name)).first()


def get_org(session: Session, name: str) -> Organization:
    org = find_org(session, name)
    if org is None:
        raise NotFound(_("no organization named '{name}'").format(name=name))
    return org


def add_org(session: Session, actor: User, name: str, changes: OrgChanges = OrgChanges()) -> Organization:
    """Create an organization (admin only). Markup defaults to 1.3, currency USD, timezone UTC."""
    require_admin(actor)
    name = check_name(name)
    if find_org(session, name) is not None:
        raise InvalidInput(_("an organization named '{name}' already exists").format(name=name))
    org = Organization(name=name, markup_rate=DEFAULT_MARKUP)
    _apply(org, changes)
    session.add(org)
    session.flush()
    return org


def set_org(session: Session, actor: User, name: str, changes: OrgChanges) -> Organization:
    """Change an organization's settings (admin only)."""
    require_admin(actor)
    org = get_org(session, name)
    _apply(org, changes)
    session.add(org)
    session.flush()
    return org


def assign_user(session: Session, actor: User, user_name: str, org_name: str) -> User:
    """Make `user_name` a member of `org_name` (a user belongs to at most one org)."""
    require_admin(actor)
    user = get_user(session, user_name)
    user.org_id = get_org(session, org_name).id
    session.add(user)
    session.flush()
    return user


def list_orgs(session: Session) -> list[Organization]:
    return list(session.exec(select(Organization).order_by(col(Organization.name))).all())


def ensure_personal_org(session: Session) -> Organization:
    """The default organization that pays for users who belong to none."""
    org = find_org(session, PERSONAL_ORG)
    if org is None:
        org = Organization(name=PERSONAL_ORG, markup_rate=DEFAULT_MARKUP)
        session.add(org)
        session.flush()
    return org


def set_org_key(session: Session, secrets: SecretStore, actor: User, org_name: str, key: str) -> Secret:
    """Store an org's own OpenRouter key (admin only): the key in the secret store, its
    SHA-256 on the org, which is how OpenRouter names it to the usage sync."""
    require_admin(actor)
    org = get_org(session, org_name)
    secret = secrets.set(secret_name("openrouter", org.name), key)
    org.openrouter_key_hash = key_hash(secret.value)
    session.add(org)
    session.flush()
    return secret


def remove_org_key(session: Session, secrets: SecretStore, actor: User, org_name: str) -> list[Source]:
    """Delete an org's own OpenRouter key (admin only); its calls use the shared key again."""
    require_admin(actor)
    org = find_org(session, org_name)
    removed = secrets.delete(secret_name("openrouter", org_name))
    if org is not None:
        org.openrouter_key_hash = None
        session.add(org)
        session.flush()
    return removed
