"""Every test runs in its own XDG folders, with no developer config, keys or keyring."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, text

from mai_tui.core.store.engine import dispose_engines

# Variables that would leak the developer's own setup into a test.
_LEAKY = [
    "MAI_CONFIG",
    "MAI_DATA_DIR",
    "MAI_USER",
    "DATABASE_URL",
    "WEBUI_NAME",
    "WEBUI_BRAND_COLOR",
    "NO_COLOR",
    "PORT",
    "ENV",
    "LOG_LEVEL",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "OPENROUTER_MANAGEMENT_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "GEMINI_BASE_URL",
    "OPENROUTER_BASE_URL",
    "OLLAMA_BASE_URL",
    "MAI_LANGUAGE",
    "MAI_BIDI",
    "MAI_THEME",
    "MAI_DEFAULT_MODEL",
    "OPENROUTER_USAGE_SYNC_INTERVAL",
    "OPENROUTER_USAGE_SYNC_DAYS_BACK",
    "LANGUAGE",
    "LC_ALL",
    "LC_MESSAGES",
]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in _LEAKY:
        monkeypatch.delenv(name, raising=False)
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = tmp_path / "xdg" / name.lower()
        monkeypatch.setenv(f"XDG_{name}_HOME", str(folder))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("MAI_USER", "tester")
    # The fail backend: no test ever reads or writes the developer's real keyring.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    from mai_tui.i18n import set_language

    set_language(None)
    yield tmp_path
    dispose_engines()


SERVER_URLS = {
    "postgresql": "MAI_TEST_POSTGRES_URL",
    "mysql": "MAI_TEST_MYSQL_URL",
}
_OWN_DATABASE = "test_{pid}"  # one database per test process: runs side by side never meet


def _own_database(url: str) -> str:
    """A database of this process's own on the server of `url` (whose database is only the way in),
    created empty; databases left by test processes that no longer run are dropped first."""
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    mine = _OWN_DATABASE.format(pid=os.getpid())
    quote = '"' if admin.dialect.name == "postgresql" else "`"
    listing = text(
        "SELECT datname FROM pg_database WHERE datname LIKE :pattern"
        if admin.dialect.name == "postgresql"
        else "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :pattern"
    )
    with admin.connect() as connection:
        for (name,) in connection.execute(listing, {"pattern": "test\\_%"}).all():
            pid = name.removeprefix("test_")
            if pid.isdigit() and (int(pid) == os.getpid() or not Path(f"/proc/{pid}").exists()):
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote}{name}{quote}")
        connection.exec_driver_sql(f"CREATE DATABASE {quote}{mine}{quote}")
    admin.dispose()
    return make_url(url).set(database=mine).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_databases() -> Iterator[dict[str, str]]:
    """PostgreSQL and MariaDB URLs of this process's own databases (those configured)."""
    urls = {kind: _own_database(os.environ[name]) for kind, name in SERVER_URLS.items() if os.environ.get(name)}
    yield urls
    dispose_engines()
    for url in urls.values():
        engine = create_engine(url)
        database = engine.url.database
        quote = '"' if engine.dialect.name == "postgresql" else "`"
        engine.dispose()
        admin = create_engine(os.environ[SERVER_URLS[engine.dialect.name]], isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote}{database}{quote}")
        admin.dispose()


def wipe(url: str) -> None:
    """Drop every table in a test database, so each test starts from empty."""
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = MetaData()
        tables.reflect(connection)
        tables.drop_all(connection)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The same test on SQLite and, when configured, on PostgreSQL and MariaDB.

    `make test` sets MAI_TEST_POSTGRES_URL and MAI_TEST_MYSQL_URL (the `test` database of each
    server); when set, an unreachable server fails the test rather than skipping it. Each test
    process works in a database of its own on those servers (see `server_databases`).
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        if not os.environ.get(SERVER_URLS[request.param]):
            pytest.skip(f"{SERVER_URLS[request.param]} is not set")
        url = request.getfixturevalue("server_databases")[request.param]
        wipe(url)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines()


@pytest.fixture
def openrouter(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fake OpenRouter the app reaches through OPENROUTER_BASE_URL, with a key and a default model."""
    from tests.fakes.server import FakeServer

    with FakeServer() as server:
        monkeypatch.setenv("OPENROUTER_BASE_URL", f"{server.base_url}/api/v1")
        monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-testkey0123456789")
        monkeypatch.setenv("MAI_DEFAULT_MODEL", "openrouter/openai/gpt-4o-mini")
        yield server
