"""`mai usage …` and `mai db clean-usage|reset` through the real entry point, on every database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from mai_tui.core.context import load_context
from mai_tui.core.store.models import LedgerEntry, Organization, User
from mai_tui.core.usage import ledger
from tests.cli.conftest import Mai


@pytest.fixture(autouse=True)
def _every_database(database_url: str) -> None:
    """Each test here runs on SQLite, PostgreSQL and MariaDB."""


def ledger_rows() -> list[LedgerEntry]:
    with load_context().session(write=False) as session:
        return list(session.exec(select(LedgerEntry)).all())


def setup_orgs(mai: Mai) -> None:
    assert mai("db", "init").code == 0
    assert (
        mai(
            "orgs",
            "add",
            "acme",
            "--markup",
            "1.5",
            "--timezone",
            "Europe/Warsaw",
            "--currency",
            "PLN",
            "--exchange-rate",
            "4",
        ).code
        == 0
    )
    assert mai("users", "add", "alice", "--org", "acme").code == 0


def test_manual_record_never_guesses_a_split(mai: Mai) -> None:
    setup_orgs(mai)
    total = mai(
        "usage",
        "record",
        "--model",
        "openai/gpt-4o",
        "--tokens",
        "1200",
        "--cost",
        "0.0123",
        "--user",
        "alice",
        "--note",
        "invoice 42",
    )
    assert total.code == 0, total.err
    split = mai(
        "usage",
        "record",
        "--model",
        "openai/gpt-4o",
        "--input-tokens",
        "1000",
        "--output-tokens",
        "200",
        "--cost",
        "0.01",
        "--org",
        "acme",
    )
    assert split.code == 0, split.err
    first, second = sorted(ledger_rows(), key=lambda r: r.id or 0)
    assert (first.prompt_tokens, first.completion_tokens, first.unsplit_tokens) == (0, 0, 1200)
    assert (second.prompt_tokens, second.completion_tokens, second.unsplit_tokens) == (1000, 200, 0)
    assert (first.cost_source, first.kind, first.raw_cost_usd, first.billed_cost_usd) == (
        "manual",
        "manual",
        Decimal("0.0123"),
        Decimal("0.01845"),
    )
    assert first.note is not None
    assert "invoice 42" in first.note
    live = mai("usage", "live", "acme", "--json").json()
    assert (live["requests"], live["tokens"], live["raw_cost_usd"], live["billed_cost_usd"]) == (
        2,
        2400,
        "0.0223",
        "0.03345",
    )
    assert live["billed_cost"] == "0.13"  # PLN at 4 per USD, for display
    assert live["last_updated"].endswith(("+01:00", "+02:00"))  # shown in the org's timezone


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tokens", "10", "--cost", "x"), "is not a number"),
        (("--tokens", "10", "--cost", "-1"), "cost must be"),
        (("--cost", "1"), "give --tokens"),
        (("--input-tokens", "10", "--cost", "1"), "give both"),
        (("--tokens", "5", "--input-tokens", "1", "--output-tokens", "1", "--cost", "1"), "is not --input-tokens"),
        (("--tokens", "5", "--cost", "1", "--org", "nope"), "no organization named 'nope'"),
    ],
)
def test_bad_manual_records_are_refused(mai: Mai, args: tuple[str, ...], message: str) -> None:
    setup_orgs(mai)
    result = mai("usage", "record", "--model", "openai/gpt-4o", *args)
    assert result.code == 1
    assert message in result.err
    assert ledger_rows() == []


def add_calls() -> None:
    context = load_context()
    with context.session() as session:
        acme = session.exec(select(Organization).where(Organization.name == "acme")).one()
        users = {u.name: u.id for u in session.exec(select(User)).all()}
        start = datetime(2026, 10, 31, 22, 30, tzinfo=UTC)  # 23:30 in Warsaw: still October there
        for n, (model, cost, user) in enumerate(
            [
                ("openai/gpt-4o", "0.1", "alice"),
                ("openai/gpt-4o", "0.2", "tester"),
                ("anthropic/claude", "0.3", "alice"),
            ]
        ):
            ledger.record(
                session,
                acme,
                LedgerEntry(
                    created_at=start + timedelta(hours=2 * n),
                    day=start.date(),
                    org_id=0,
                    user_id=users[user],
                    kind="chat",
                    provider=model.split("/")[0],
                    model=model,
                    generation_id=f"g{n}",
                    prompt_tokens=100,
                    completion_tokens=10,
                    raw_cost_usd=Decimal(cost),
                    cost_source="provider",
                ),
            )


def test_reports_and_statements(mai: Mai) -> None:
    setup_orgs(mai)
    add_calls()
    by_day = mai("usage", "report", "--from", "2026-10-01", "--to", "2026-11-30", "--by", "day", "--json").json()
    assert [(r["day"], r["billed_cost_usd"]) for r in by_day] == [("2026-10-31", "0.15"), ("2026-11-01", "0.75")]
    by_model = mai("usage", "report", "--from", "2026-10-01", "--to", "2026-11-30", "--by", "model", "--csv").out
    rows = list(csv.DictReader(io.StringIO(by_model)))
    assert [(r["model"], r["raw_cost_usd"], r["markup_usd"]) for r in rows] == [
        ("anthropic/claude", "0.3", "0.15"),  # equal cost: by name
        ("openai/gpt-4o", "0.3", "0.15"),
    ]
    by_user = mai("usage", "report", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "user", "--json").json()
    assert {r["user"]: r["requests"] for r in by_user} == {"alice": 1, "tester": 1}
    statement = mai("usage", "statement", "acme", "--month", "2026-11", "--json").json()
    assert (statement["raw_cost_usd"], statement["billed_cost_usd"]) == ("0.5", "0.75")
    assert [(x["model"], x["user"]) for x in statement["lines"]] == [
        ("anthropic/claude", "alice"),
        ("openai/gpt-4o", "tester"),
    ]
    markdown = mai("usage", "statement", "acme", "--month", "2026-11", "--md").out
    assert "| openai/gpt-4o | tester | 1 | 110 | 0.2 | 0.1 | 0.3 |" in markdown
    assert "In PLN at 4 per USD: 3.00" in markdown
    october = mai("usage", "statement", "acme", "--month", "2026-10", "--csv").out
    assert next(iter(csv.DictReader(io.StringIO(october))))["billed_cost_usd"] == "0.15"
    assert mai("usage", "report", "--from", "2026-11-30", "--to", "2026-11-01").code == 1
    assert "is not a month" in mai("usage", "statement", "acme", "--month", "November").err


def test_members_see_only_their_own_org(mai: Mai) -> None:
    setup_orgs(mai)
    add_calls()
    assert mai("orgs", "add", "globex").code == 0
    assert mai("usage", "live", "acme", "--json", user="alice").code == 0
    refused = mai("usage", "live", "globex", user="alice")
    assert refused.code == 1
    assert "only admins and members" in refused.err
    mine = mai("usage", "report", "--from", "2026-10-01", "--to", "2026-11-30", "--by", "org", "--json", user="alice")
    assert [r["org"] for r in mine.json()] == ["acme"]


@pytest.mark.parametrize(
    "command",
    [
        ("usage", "sync"),
        ("usage", "record", "--model", "m/x", "--tokens", "1", "--cost", "1"),
        ("db", "clean-usage", "--yes"),
        ("db", "reset", "--yes"),
    ],
)
def test_plain_user_is_refused_admin_usage_commands(mai: Mai, command: tuple[str, ...]) -> None:
    setup_orgs(mai)
    add_calls()
    before = (len(ledger_rows()), mai("users", "list", "--json").out)
    result = mai(*command, user="alice")
    assert result.code == 1
    assert "only an admin" in result.err
    assert (len(ledger_rows()), mai("users", "list", "--json").out) == before


def test_clean_usage_keeps_orgs_and_reset_empties_everything(mai: Mai) -> None:
    setup_orgs(mai)
    add_calls()
    unconfirmed = mai("db", "clean-usage")  # stdin is not a terminal
    assert unconfirmed.code == 1
    assert "--yes" in unconfirmed.err
    assert len(ledger_rows()) == 3
    cleaned = mai("db", "clean-usage", "--yes")
    assert cleaned.code == 0, cleaned.err
    assert "usage_ledger: 3 rows removed" in cleaned.out
    assert "usage_daily: 3 rows removed" in cleaned.out
    assert ledger_rows() == []
    assert [o["name"] for o in mai("orgs", "list", "--json").json()] == ["acme", "personal"]
    reset = mai("db", "reset", "--yes")
    assert reset.code == 0, reset.err
    assert "organizations: 2 rows removed" in reset.out
    users = mai("users", "list", "--json").json()  # the next command makes you its admin again
    assert [(u["name"], u["role"]) for u in users] == [("tester", "admin")]


def test_status_before_and_after_a_sync(mai: Mai, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.openrouter import FakeOpenRouter

    setup_orgs(mai)
    assert "has not run yet" in mai("usage", "status").out
    with FakeOpenRouter() as fake:
        monkeypatch.setenv("OPENROUTER_BASE_URL", fake.base_url)
        key, _hash = fake.add_key("acme")
        assert mai("keys", "set", "openrouter", "--org", "acme", stdin=key).code == 0
        first = mai("usage", "sync", "--json")
        assert first.code == 0, first.err
        assert first.json()["errors"] == []
        assert mai("usage", "sync").code == 0  # the key's first reading becomes its baseline
        fake.spend(key, "openai/gpt-4o-mini", "0.5", prompt_tokens=1, completion_tokens=1)
        assert "outside spend $0." in mai("usage", "sync").out  # read; compared on the next cycle
        assert "outside spend $0.5" in mai("usage", "sync").out
    state = mai("usage", "status", "--json").json()
    assert state["error"] is None
    assert state["result"]["outside_spend_usd"] == "0.5"
    assert state["next_run_at"] > state["last_run_at"]
