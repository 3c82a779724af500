"""Every test runs in its own XDG folders, with no developer config, keys or keyring."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine

from mai_tui.core.store.engine import dispose_engines

# Variables that would leak the developer's own setup into a test.
_LEAKY = [
    "MAI_CONFIG",
    "MAI_DATA_DIR",
    "MAI_USER",
    "DATABASE_URL",
    "WEBUI_NAME",
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


def wipe(url: str) -> None:
    """Drop every table in a shared test database, so each test starts from empty."""
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = MetaData()
        tables.reflect(connection)
        tables.drop_all(connection)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The same test on SQLite and, when configured, on PostgreSQL and MariaDB.

    `make test` sets MAI_TEST_POSTGRES_URL and MAI_TEST_MYSQL_URL; when set, an unreachable
    server fails the test rather than skipping it.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        url = os.environ.get(SERVER_URLS[request.param], "")
        if not url:
            pytest.skip(f"{SERVER_URLS[request.param]} is not set")
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
