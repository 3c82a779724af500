"""Schema migrations: the app upgrades its own database at start, safely.

- Cheap check first: one read of `alembic_version` against the head of the scripts.
- A lock so two processes never migrate at once (SQLite write lock, PostgreSQL advisory
  lock, MySQL named lock); the revision is read again under the lock.
- Before an existing SQLite file changes, a consistent copy is kept beside it
  (`mai.db.bak-<time>-<revision>`, the newest three).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from mai_tui.core.errors import DatabaseError
from mai_tui.core.store.engine import writer
from mai_tui.i18n import _
from mai_tui.resources import resource_dir

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

BACKUPS_KEPT = 3
_LOCK_NAME = "mai_migrate"
_PG_LOCK_KEY = 7_240_905_113


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


_REVISION = re.compile(r'^revision: str = "([^"]+)"', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision: str \| None = (?:"([^"]+)"|None)', re.MULTILINE)


@cache
def head_revision() -> str:
    """The newest revision, read from the scripts' headers without importing Alembic
    (which costs ~0.4 s at every start); Alembic's own answer is used if that fails."""
    children: dict[str, str | None] = {}
    for script in (resource_dir("migrations") / "versions").glob("*.py"):
        text_ = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text_), _DOWN_REVISION.search(text_)
        if revision is None or down is None:
            break
        children[revision.group(1)] = down.group(1)
    else:
        heads = set(children) - set(children.values())
        if len(heads) == 1:
            return heads.pop()
    head = _scripts().get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


def revisions() -> list[str]:
    """Every revision, oldest first."""
    return [script.revision for script in reversed(list(_scripts().walk_revisions()))]


def current_revision(connection: Connection) -> str | None:
    """The database's revision (None for a new database), in one small read."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision (one small read)."""
    try:
        with engine.connect() as connection:
            return current_revision(connection) == head_revision()
    except DBAPIError as error:
        raise DatabaseError(_("the database cannot be reached: {reason}").format(reason=_reason(error))) from None


def _reason(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that only one process at a time can hold."""
    dialect = engine.dialect.name
    with writer(engine).connect() as connection:
        if dialect == "sqlite":
            # Batch migrations rebuild tables (copy, drop, rename); with foreign keys on, the
            # drop would cascade into child rows. The pragma only works outside a transaction,
            # so it goes straight to the driver; integrity is checked before committing.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        if dialect == "mysql":
            got = connection.execute(text("SELECT GET_LOCK(:name, 300)"), {"name": _LOCK_NAME}).scalar()
            connection.commit()
            if got != 1:
                raise DatabaseError(_("another process is migrating the database; try again"))
        try:
            with connection.begin():  # SQLite: BEGIN IMMEDIATE, the writer's lock
                if dialect == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                yield connection
        finally:
            if dialect == "sqlite":
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]
            if dialect == "mysql":
                connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME})
                connection.commit()


def upgrade(engine: Engine, target: str = "head") -> bool:
    """Bring the database to `target`; returns True when anything changed."""
    from alembic import command

    known = set(revisions())
    try:
        with _migration_lock(engine) as connection:
            current = current_revision(connection)
            if current is not None and current not in known:
                raise DatabaseError(
                    _(
                        "the database is at revision {revision}, which this version of mai does not know "
                        "(was it written by a newer version?)"
                    ).format(revision=current)
                )
            wanted = head_revision() if target == "head" else target
            if current == wanted:
                return False
            database_file = _sqlite_file(engine)
            if current is not None and database_file is not None:
                backup_sqlite(database_file, current)
            log.info("migrating database from %s to %s", current or "empty", wanted)
            command.upgrade(_alembic_config(connection), target)
            _check_foreign_keys(connection)
            return True
    except DBAPIError as error:
        raise DatabaseError(_("the database cannot be migrated: {reason}").format(reason=_reason(error))) from None
    except DatabaseError:
        raise
    except Exception as error:  # a failed migration script: the transaction rolled back, say so plainly
        log.exception("migration failed")
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        if engine.dialect.name == "mysql":  # MySQL commits each schema change at once: no rollback
            message = _("the database cannot be migrated ({reason}); MySQL/MariaDB may keep part of the change")
        else:
            message = _("the database cannot be migrated ({reason}); nothing was changed")
        raise DatabaseError(message.format(reason=reason)) from None


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse to commit a SQLite migration that left a row pointing at nothing."""
    if connection.dialect.name == "sqlite":
        broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise DatabaseError(
                _("the migration would break {n} references; nothing was changed").format(n=len(broken))
            )


def downgrade(engine: Engine, target: str = "base") -> None:
    """Step the schema back (developers and tests; data in dropped tables is lost)."""
    from alembic import command

    with _migration_lock(engine) as connection:
        command.downgrade(_alembic_config(connection), target)


def ensure_current(engine: Engine) -> bool:
    """Migrate only when behind; the common case costs one read. True if it migrated."""
    if is_current(engine):
        return False
    return upgrade(engine)


def _sqlite_file(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Path(engine.url.database)


def backup_sqlite(database_file: Path, revision: str) -> Path:
    """Copy the database (consistently, via SQLite's backup API) and keep the newest three."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = database_file.with_name(f"{database_file.name}.bak-{stamp}-{revision}")
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
    source = sqlite3.connect(database_file)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    for old in list_backups(database_file)[BACKUPS_KEPT:]:
        old.unlink(missing_ok=True)
    log.info("kept a copy of the database before migrating: %s", target)
    return target


def list_backups(database_file: Path) -> list[Path]:
    """The kept copies of `database_file`, newest first."""
    return sorted(database_file.parent.glob(f"{database_file.name}.bak-*"), reverse=True)
