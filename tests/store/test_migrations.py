"""Migrations on SQLite, PostgreSQL and MariaDB: up, down, no lost rows, backups, locking."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, inspect, text

from mai_tui.core.errors import DatabaseError
from mai_tui.core.store.engine import get_engine
from mai_tui.core.store.migrate import (
    BACKUPS_KEPT,
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    list_backups,
    revisions,
    upgrade,
)

APP_TABLES = {
    "organizations",
    "users",
    "conversations",
    "messages",
    "model_catalogue",
    "usage_ledger",
    "usage_daily",
    "model_prices",
    "usage_sync_status",
    "usage_closed_days",
    "usage_key_state",
    "kb_collections",
    "kb_documents",
    "presets",
    "prompts",
    "conversation_tags",
}


def tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names()) - {"alembic_version"}


def test_upgrade_to_head_and_down_to_base(database_url: str) -> None:
    engine = get_engine(database_url)
    assert upgrade(engine) is True
    assert tables(engine) >= APP_TABLES
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
    assert upgrade(engine) is False  # already current: nothing to do
    downgrade(engine, "base")
    assert tables(engine) == set()
    with engine.connect() as connection:
        assert current_revision(connection) is None


# Rows written at each revision; every new migration adds its own seed here.
def _seed_0001(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO organizations (name, markup_rate, monthly_limit_usd, currency, timezone, active, created_at) "
            "VALUES ('acme', '1.3000', '500.0000000000', 'PLN', 'Europe/Warsaw', :t, '2026-01-31 23:30:00')"
        ),
        {"t": True},
    )
    connection.execute(
        text("INSERT INTO users (name, role, created_at) VALUES ('alice', 'admin', '2026-01-31 23:30:00')")
    )


def _seed_0002(connection: Connection) -> None:
    org_id = connection.execute(text("SELECT id FROM organizations WHERE name = 'acme'")).scalar_one()
    connection.execute(
        text("INSERT INTO users (name, role, org_id, created_at) VALUES ('bob', 'user', :org, '2026-02-01 00:30:00')"),
        {"org": org_id},
    )


def _seed_0003(connection: Connection) -> None:
    user_id = connection.execute(text("SELECT id FROM users WHERE name = 'alice'")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO conversations (user_id, title, model, pinned, archived, created_at, updated_at) "
            "VALUES (:user, 'Hello', 'openrouter/x/y', :f, :f, '2026-02-01 00:30:00', '2026-02-01 00:30:00')"
        ),
        {"user": user_id, "f": False},
    )
    conversation = connection.execute(text("SELECT id FROM conversations WHERE title = 'Hello'")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at) "
            "VALUES (:c, 'user', 'Hi', 'complete', '2026-02-01 00:30:00', '2026-02-01 00:30:00')"
        ),
        {"c": conversation},
    )
    prompt = connection.execute(text("SELECT id FROM messages WHERE content = 'Hi'")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, cost_usd, created_at, "
            "updated_at) VALUES (:c, :p, 'assistant', 'Hello!', 'complete', '0.00002415', '2026-02-01 00:30:01', "
            "'2026-02-01 00:30:01')"
        ),
        {"c": conversation, "p": prompt},
    )


def _seed_0004(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO model_catalogue (id, provider, model, context_length, input_price_per_mtok, fetched_at) "
            "VALUES ('openrouter/openai/gpt-4o', 'openrouter', 'openai/gpt-4o', 128000, '2.5', '2026-02-01 00:00:00')"
        )
    )


def _seed_0005(connection: Connection) -> None:
    org = connection.execute(text("SELECT id FROM organizations WHERE name = 'acme'")).scalar_one()
    user = connection.execute(text("SELECT id FROM users WHERE name = 'alice'")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO usage_ledger (created_at, day, org_id, user_id, kind, provider, model, generation_id, "
            "prompt_tokens, completion_tokens, raw_cost_usd, markup_rate, billed_cost_usd, cost_source, estimated, "
            "pending) VALUES ('2026-01-31 23:30:00', '2026-02-01', :org, :user, 'chat', 'openrouter', "
            "'openrouter/openai/gpt-4o', 'gen-1', 10, 5, 241500, '1.3000', 313950, 'provider', :f, :f)"
        ),
        {"org": org, "user": user, "f": False},
    )
    connection.execute(
        text(
            "INSERT INTO usage_daily (org_id, day, user_id, model, requests, raw_cost_usd, billed_cost_usd, "
            "updated_at) VALUES (:org, '2026-02-01', :user, 'openrouter/openai/gpt-4o', 1, 241500, 313950, "
            "'2026-01-31 23:30:00')"
        ),
        {"org": org, "user": user},
    )
    connection.execute(
        text(
            "INSERT INTO model_prices (provider, model, valid_from, input_per_mtok, output_per_mtok, source, "
            "updated_at) VALUES ('openai', 'gpt-4o', '2024-10-01', '2.5', '10', 'test', '2026-02-01 00:00:00')"
        )
    )
    connection.execute(
        text("INSERT INTO usage_sync_status (name, updated_at) VALUES ('openrouter', '2026-02-01 00:00:00')")
    )


def _seed_0006(connection: Connection) -> None:
    user = connection.execute(text("SELECT id FROM users WHERE name = 'alice'")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO kb_collections (name, embedder, chunk_size, chunk_overlap, owner_id, created_at, updated_at) "
            "VALUES ('papers', 'minilm', 1000, 100, :user, '2026-02-01 00:00:00', '2026-02-01 00:00:00')"
        ),
        {"user": user},
    )
    collection = connection.execute(text("SELECT id FROM kb_collections WHERE name = 'papers'")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO kb_documents (collection_id, path, path_hash, name, kind, content_hash, size_bytes, pages, "
            "characters, chunks, status, low_quality, embedder, updated_at) VALUES (:c, '/tmp/a.pdf', 'h1', "
            "'a.pdf', 'pdf', 'c1', 10, 1, 100, 1, 'indexed', :f, 'minilm', '2026-02-01 00:00:00')"
        ),
        {"c": collection, "f": False},
    )


def _seed_0007(connection: Connection) -> None:
    user = connection.execute(text("SELECT id FROM users WHERE name = 'alice'")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO presets (name, model, system_prompt, temperature, collection, user_id, created_at, "
            "updated_at) VALUES ('reviewer', 'openai/gpt-4o', 'Be brief.', 0.2, 'papers', :user, "
            "'2026-02-01 00:00:00', '2026-02-01 00:00:00')"
        ),
        {"user": user},
    )
    connection.execute(
        text(
            "INSERT INTO prompts (command, title, content, user_id, created_at, updated_at) VALUES ('summarize', "
            "'Summarize', 'Summarize {{text}}', :user, '2026-02-01 00:00:00', '2026-02-01 00:00:00')"
        ),
        {"user": user},
    )
    conversation = connection.execute(text("SELECT MIN(id) FROM conversations")).scalar_one()
    connection.execute(
        text("INSERT INTO conversation_tags (conversation_id, tag) VALUES (:c, 'work')"), {"c": conversation}
    )


SEEDS: dict[str, Callable[[Connection], None]] = {
    "0001": _seed_0001,
    "0002": _seed_0002,
    "0003": _seed_0003,
    "0004": _seed_0004,
    "0005": _seed_0005,
    "0006": _seed_0006,
    "0007": _seed_0007,
}


def test_every_revision_has_a_seed() -> None:
    assert set(SEEDS) == set(revisions()), "add a seed for the new migration to SEEDS"


def test_rows_written_at_each_revision_survive_every_later_upgrade(database_url: str) -> None:
    engine = get_engine(database_url)
    counts: dict[str, int] = {}
    for revision in revisions():
        upgrade(engine, revision)
        with engine.begin() as connection:
            SEEDS[revision](connection)
        with engine.connect() as connection:
            for table in tables(engine):
                counts[table] = connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
    upgrade(engine)
    with engine.connect() as connection:
        for table, count in counts.items():
            assert connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == count, table
        members = connection.execute(text("SELECT u.name FROM users u JOIN organizations o ON o.id = u.org_id"))
        assert members.scalars().all() == ["bob"]
        created = connection.execute(text("SELECT created_at FROM users WHERE name = 'alice'")).scalar()
        assert str(created).startswith("2026-01-31 23:30:00")


def test_sqlite_file_is_private_and_copied_before_each_migration(tmp_path: Path) -> None:
    database = tmp_path / "data" / "mai.db"
    engine = get_engine(f"sqlite:///{database}")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    first = revisions()[0]
    upgrade(engine, first)
    assert list_backups(database) == []  # a new, empty database has nothing to keep
    with engine.begin() as connection:
        SEEDS[first](connection)

    upgrade(engine)
    [backup] = list_backups(database)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (first,)
    assert copy.execute("SELECT name FROM users").fetchall() == [("alice",)]
    copy.close()

    for _ in range(BACKUPS_KEPT + 1):
        downgrade(engine, first)
        upgrade(engine)
    assert len(list_backups(database)) == BACKUPS_KEPT
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM users")).scalars().all() == ["alice"]
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1  # switched back on


def test_two_processes_migrating_at_once_both_succeed(tmp_path: Path) -> None:
    database = tmp_path / "race.db"
    code = (
        "import sys\nfrom mai_tui.core.store.engine import get_engine\n"
        "from mai_tui.core.store.migrate import ensure_current\n"
        "print(ensure_current(get_engine(sys.argv[1])))"
    )
    url = f"sqlite:///{database}"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], results
    assert sorted(out.strip() for out, _ in results) == ["False", "False", "True"]
    assert ensure_current(get_engine(url)) is False


def test_a_failing_migration_changes_nothing(database_url: str) -> None:
    """A migration that breaks half-way is rolled back whole (SQLite and PostgreSQL have
    transactional DDL; MySQL does not, so there only the clear error is promised)."""
    engine = get_engine(database_url)
    first, second = revisions()[:2]
    upgrade(engine, first)
    with engine.begin() as connection:
        SEEDS[first](connection)
        # An object the next migration wants to create already exists: it must fail.
        connection.execute(text("CREATE INDEX ix_users_org_id ON users (name)"))
    with pytest.raises(DatabaseError, match="cannot be migrated"):
        upgrade(engine, second)
    if engine.dialect.name == "mysql":
        return
    with engine.connect() as connection:
        assert current_revision(connection) == first
        columns = {c["name"] for c in inspect(connection).get_columns("users")}
        assert "org_id" not in columns
        assert connection.execute(text("SELECT name FROM users")).scalars().all() == ["alice"]


def test_the_quick_head_revision_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from mai_tui.core.store import migrate

    alembic_head = ScriptDirectory.from_config(migrate._alembic_config()).get_current_head()
    assert migrate.head_revision() == alembic_head == revisions()[-1]
