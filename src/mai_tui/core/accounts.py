"""Users and roles (DESIGN.md "Who is the user").

The current user is `MAI_USER`, else the OS login name. The first user ever seen becomes
an admin; later unknown users start as `pending` until an admin gives them a role.
Admin-only operations call `require_admin` here, in the core, so every shell is covered.
"""

from __future__ import annotations

import getpass
import os
import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.store.models import Organization, Role, User
from mai_tui.i18n import _

_NAME = re.compile(r"^[\w.@+-]{1,150}$")


def current_user_name() -> str:
    """Who is running the app: `MAI_USER`, else the OS login name."""
    name = os.environ.get("MAI_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(
            _("'{name}' is not a valid name (letters, digits and . _ @ + - only, up to 150)").format(name=name)
        )
    return name


def parse_role(role: str) -> Role:
    try:
        return Role(role.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidInput(
            _("unknown role '{role}' (expected one of: {choices})").format(role=role, choices=choices)
        ) from None


def find_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def get_user(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise NotFound(_("no user named '{name}'").format(name=name))
    return user


def ensure_user(session: Session, name: str) -> User:
    """Return user `name`, creating it: admin when there are no users yet, else pending."""
    name = check_name(name)
    user = find_user(session, name)
    if user is not None:
        return user
    has_users = session.exec(select(func.count()).select_from(User)).one() > 0
    user = User(name=name, role=(Role.PENDING if has_users else Role.ADMIN).value)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # another process created it between our read and write
        session.rollback()
        return get_user(session, name)
    return user


def require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDenied(
            _("only an admin can do this; '{name}' is {role}").format(name=actor.name, role=actor.role)
        )


def add_user(session: Session, actor: User, name: str, role: str = "user", org: str | None = None) -> User:
    """Create a user (admin only)."""
    require_admin(actor)
    name = check_name(name)
    if find_user(session, name) is not None:
        raise InvalidInput(_("a user named '{name}' already exists").format(name=name))
    user = User(name=name, role=parse_role(role).value)
    if org is not None:
        user.org_id = _get_org_id(session, org)
    session.add(user)
    session.flush()
    return user


def set_role(session: Session, actor: User, name: str, role: str) -> User:
    """Change a user's role (admin only). The last admin cannot be demoted."""
    require_admin(actor)
    new_role = parse_role(role)
    user = get_user(session, name)
    if user.role == Role.ADMIN and new_role != Role.ADMIN:
        admins = session.exec(select(func.count()).select_from(User).where(User.role == Role.ADMIN.value)).one()
        if admins <= 1:
            raise InvalidInput(_("'{name}' is the last admin; make someone else admin first").format(name=name))
    user.role = new_role.value
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[tuple[User, str | None]]:
    """Every user with the name of their organization, by name."""
    rows = session.exec(select(User, Organization.name).join(Organization, isouter=True).order_by(col(User.name))).all()
    return [(user, org_name) for user, org_name in rows]


def _get_org_id(session: Session, name: str) -> int:
    org = session.exec(select(Organization).where(Organization.name == name)).first()
    if org is None or org.id is None:
        raise NotFound(_("no organization named '{name}'").format(name=name))
    return org.id
