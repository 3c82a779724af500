"""The OpenRouter sync's lease (one instance syncs at a time) and its status record."""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mai_tui.core.context import AppContext
from mai_tui.core.store.models import SyncStatus

SYNC_NAME = "openrouter"
LEASE_SECONDS = 300


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def status_row(session: Session) -> SyncStatus:
    """The sync's status row, created on first use, read with a lock: a current read even under
    MySQL's repeatable read, where a plain read could miss a row another instance just made."""
    query = select(SyncStatus).where(SyncStatus.name == SYNC_NAME).with_for_update()
    row = session.exec(query).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(SyncStatus(name=SYNC_NAME))
        except IntegrityError:  # another instance created it first
            pass
        row = session.exec(query.execution_options(populate_existing=True)).first()
    assert row is not None
    return row


def acquire_lease(context: AppContext, owner: str, now: datetime, seconds: int = LEASE_SECONDS) -> str | None:
    """Take (or renew) the sync lease; None when taken, else who holds it."""
    with context.session() as session:
        row = status_row(session)  # locked: instances racing for the lease queue here
        if row.lease_owner not in (None, owner) and row.lease_until is not None and row.lease_until >= now:
            return row.lease_owner
        row.lease_owner, row.lease_until, row.updated_at = owner, now + timedelta(seconds=seconds), now
        session.add(row)
        return None


def release_lease(context: AppContext, owner: str) -> None:
    with context.session() as session:
        session.execute(
            update(SyncStatus)
            .where(col(SyncStatus.name) == SYNC_NAME, col(SyncStatus.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )


def status(context: AppContext) -> SyncStatus | None:
    with context.session(write=False) as session:
        return session.get(SyncStatus, SYNC_NAME)
