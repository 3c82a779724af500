"""Users, roles and organizations through the command line, on every database."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Mai


@pytest.fixture(autouse=True)
def _every_database(database_url: str) -> None:
    """Each test here runs on SQLite, PostgreSQL and MariaDB."""


def test_first_user_is_admin_and_later_strangers_are_pending(mai: Mai) -> None:
    assert mai("db", "init").code == 0
    assert mai("users", "list", "--json", user="mallory").code == 0
    users = {u["name"]: u for u in mai("users", "list", "--json").json()}
    assert users["tester"]["role"] == "admin"
    assert users["mallory"]["role"] == "pending"
    assert users["tester"]["created_at"].endswith("+00:00")


def test_db_init_sample_is_idempotent(mai: Mai) -> None:
    first = mai("db", "init", "--sample")
    assert first.code == 0, first.err
    assert "acme" in first.out
    assert "Nothing to create" in mai("db", "init", "--sample").out
    orgs = mai("orgs", "list", "--json").json()
    assert [o["name"] for o in orgs] == ["acme", "globex", "initech", "personal"]
    users = mai("users", "list", "--json").json()
    assert len(users) == 6  # five sample users and the admin running it
    assert {u["name"]: u["org"] for u in users}["alice"] == "acme"


def test_admin_manages_users_and_orgs(mai: Mai) -> None:
    mai("db", "init")
    result = mai(
        "orgs",
        "add",
        "acme",
        "--markup",
        "1.45",
        "--monthly-limit",
        "250.50",
        "--currency",
        "pln",
        "--timezone",
        "Europe/Warsaw",
    )
    assert result.code == 0, result.err
    assert mai("users", "add", "alice", "--org", "acme").code == 0
    assert mai("users", "add", "bob").code == 0
    assert mai("orgs", "assign", "bob", "acme").code == 0
    assert mai("users", "role", "bob", "admin").code == 0
    assert mai("orgs", "set", "acme", "--inactive", "--markup", "2").code == 0
    [acme] = [o for o in mai("orgs", "list", "--json").json() if o["name"] == "acme"]
    assert acme == {
        "name": "acme",
        "markup_rate": "2",
        "monthly_limit_usd": "250.5",
        "currency": "PLN",
        "timezone": "Europe/Warsaw",
        "active": False,
        "exchange_rate": "1",
        "requests_per_minute": None,
        "has_openrouter_key": False,
    }
    users = {u["name"]: u for u in mai("users", "list", "--json").json()}
    assert (users["alice"]["role"], users["alice"]["org"]) == ("user", "acme")
    assert (users["bob"]["role"], users["bob"]["org"]) == ("admin", "acme")


def test_default_markup_is_1_3(mai: Mai) -> None:
    mai("db", "init")
    mai("orgs", "add", "globex")
    [globex] = [o for o in mai("orgs", "list", "--json").json() if o["name"] == "globex"]
    assert globex["markup_rate"] == "1.3"
    assert globex["currency"] == "USD"
    assert globex["timezone"] == "UTC"


@pytest.mark.parametrize(
    "command",
    [
        ("users", "add", "eve"),
        ("users", "role", "tester", "user"),
        ("orgs", "add", "evil"),
        ("orgs", "set", "personal", "--markup", "9"),
        ("orgs", "assign", "mallory", "personal"),
        ("db", "init", "--sample"),
    ],
)
def test_plain_user_is_refused_with_exit_1_and_nothing_changes(mai: Mai, command: tuple[str, ...]) -> None:
    mai("db", "init")
    mai("users", "add", "mallory")
    before = (mai("users", "list", "--json").out, mai("orgs", "list", "--json").out)
    result = mai(*command, user="mallory")
    assert result.code == 1
    assert "only an admin" in result.err
    assert "Traceback" not in result.err
    assert (mai("users", "list", "--json").out, mai("orgs", "list", "--json").out) == before


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("orgs", "add", "x", "--timezone", "Mars/Olympus"), "IANA timezone"),
        (("orgs", "add", "x", "--currency", "ZZZ"), "ISO 4217"),
        (("orgs", "add", "x", "--markup", "0"), "markup rate must be >"),
        (("orgs", "add", "x", "--markup", "lots"), "is not a number"),
        (("orgs", "add", "x", "--markup", "1.23456"), "at most 4 decimal places"),
        (("orgs", "add", "x", "--markup", "NaN"), "markup rate must be"),
        (("orgs", "add", "x", "--monthly-limit", "-5"), "monthly limit must be"),
        (("orgs", "add", "personal"), "already exists"),
        (("orgs", "set", "nope", "--markup", "1"), "no organization named 'nope'"),
        (("users", "add", "bad name"), "not a valid name"),
        (("users", "add", "zed", "--role", "king"), "unknown role"),
        (("users", "add", "zed", "--org", "nope"), "no organization named"),
        (("users", "role", "ghost", "user"), "no user named 'ghost'"),
        (("users", "role", "tester", "user"), "last admin"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_1(mai: Mai, command: tuple[str, ...], message: str) -> None:
    mai("db", "init")
    result = mai(*command)
    assert result.code == 1
    assert message in result.err
    assert result.err.count("\n") == 1
