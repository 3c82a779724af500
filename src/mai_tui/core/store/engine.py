"""The database engine: SQLite by default, PostgreSQL or MySQL/MariaDB through DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

from mai_tui.core.errors import ConfigError
from mai_tui.core.logs import register_secret
from mai_tui.i18n import _

SQLITE_BUSY_TIMEOUT_MS = 15_000
WRITE_OPTION = "mai_write"  # execution option: this transaction will write

# The drivers this app ships; a bare scheme picks them.
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


def resolve_database_url(database_url: str | None, default_file: Path) -> str:
    """The SQLAlchemy URL to use: DATABASE_URL with our drivers, else the data-dir SQLite file."""
    if not database_url:
        return f"sqlite:///{default_file}"
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError(_("DATABASE_URL is not a database URL")) from None
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    if url.password:
        register_secret(str(url.password))  # never in a log line
    if url.get_backend_name() not in {"sqlite", "postgresql", "mysql"}:
        raise ConfigError(
            _("DATABASE_URL: unsupported database '{name}' (use sqlite, postgresql or mysql)").format(
                name=url.get_backend_name()
            )
        )
    return url.render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only (and its folder, 0700, if missing).

    An existing folder keeps its mode: DATABASE_URL may point into a shared directory.
    """
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A writing transaction takes the write lock up front (IMMEDIATE), so two processes
        # queue on busy_timeout instead of failing when a read later turns into a write.
        # Readers stay DEFERRED and never wait for writers (WAL). DDL is transactional too,
        # which keeps migrations all-or-nothing.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """One engine per URL per process."""
    engine = _engines.get(url)
    if engine is not None:
        return engine
    database_file = sqlite_file(url)
    if database_file is not None:
        _prepare_sqlite_file(database_file)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _engines[url] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before deleting a database file)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def writer(engine: Engine) -> Engine:
    """The same engine, for transactions that will write (SQLite: BEGIN IMMEDIATE)."""
    return engine.execution_options(**{WRITE_OPTION: True})


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with Session(writer(engine) if write else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
