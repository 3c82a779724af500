"""The usage screen: an org's spend against its limit, charts, breakdowns, CSV, sync status.

The data is written through the real core (orgs, users, ledger rows); "now" is frozen on the
screen so today, this month and the 30-day charts do not move from one day to the next.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Select, Static, TabbedContent

from mai_tui.core.accounts import add_user
from mai_tui.core.context import load_context
from mai_tui.core.store.models import CallKind, ClosedDay, CostSource, DailyUsage, LedgerEntry, SyncStatus
from mai_tui.core.usage import ledger
from mai_tui.core.usage.orgs import OrgChanges, add_org, assign_user, get_org, set_org
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.usage import UsageScreen
from mai_tui.tui.widgets.charts import BarChart, LimitBar
from tests.tui.helpers import wait_until

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)  # 14:00 in Warsaw
GPT = "openrouter/openai/gpt-4o"
CLAUDE = "anthropic/claude-sonnet-4"
OUTSIDE_NOTE = "spend on the org's OpenRouter key made outside this app"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UsageScreen, "now", staticmethod(lambda: NOW))


def call(at: datetime, model: str, user_id: int | None, prompt: int, completion: int, raw: str) -> LedgerEntry:
    return LedgerEntry(
        created_at=at,
        day=at.date(),
        org_id=0,
        user_id=user_id,
        kind=CallKind.CHAT.value,
        provider=model.partition("/")[0],
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        raw_cost_usd=Decimal(raw),
        cost_source=CostSource.PROVIDER.value,
    )


def seed(limit: str = "10", *, spend: bool = True) -> None:
    """Org acme (Warsaw, EUR at 0.9, markup 1.3) with alice and bob; the tester (admin) belongs to it.

    June so far: alice $2.00 today and $1.20 on the 2nd on GPT, bob $3.00 yesterday on Claude,
    $0.20 spent outside the app (reconciled); bob $0.40 in May.
    """
    context = load_context()
    with context.session() as session:
        admin = context.current_user(session)
        acme = add_org(
            session,
            admin,
            "acme",
            OrgChanges(monthly_limit_usd=limit, currency="EUR", timezone="Europe/Warsaw", exchange_rate="0.9"),
        )
        add_org(session, admin, "globex")
        alice = add_user(session, admin, "alice", org="acme")
        bob = add_user(session, admin, "bob", org="acme")
        assign_user(session, admin, admin.name, "acme")
        if not spend:
            return
        ledger.record(session, acme, call(datetime(2025, 6, 15, 9, 0, tzinfo=UTC), GPT, alice.id, 1000, 500, "2.00"))
        ledger.record(session, acme, call(datetime(2025, 6, 14, 10, 0, tzinfo=UTC), CLAUDE, bob.id, 2000, 1000, "3.00"))
        ledger.record(session, acme, call(datetime(2025, 6, 2, 8, 0, tzinfo=UTC), GPT, alice.id, 500, 200, "1.20"))
        ledger.record(session, acme, call(datetime(2025, 5, 20, 8, 0, tzinfo=UTC), CLAUDE, bob.id, 100, 100, "0.40"))
        outside = call(datetime(2025, 6, 10, 6, 0, tzinfo=UTC), "openrouter/(unattributed)", None, 0, 0, "0.20")
        outside.kind, outside.cost_source = CallKind.RECONCILE.value, CostSource.OPENROUTER_RECONCILE.value
        outside.note = OUTSIDE_NOTE
        ledger.record(session, acme, outside)
        # a finished UTC day checked against OpenRouter's /activity: 10 cents it had and the ledger had not
        session.add(
            ClosedDay(
                org_id=acme.id or 0,
                key_hash="f" * 64,
                day=date(2025, 6, 13),
                activity_usd=Decimal("1.1"),
                ledger_usd=Decimal(1),
                difference_usd=Decimal("0.1"),
                closed_at=NOW,
            )
        )
        # the rollups' "updated" time is the wall clock: fix it for the snapshot
        session.execute(update(DailyUsage).values(updated_at=datetime(2025, 6, 15, 9, 0, tzinfo=UTC)))


def seed_sync_status(error: str | None = None) -> None:
    with load_context().session() as session:
        session.add(
            SyncStatus(
                name="openrouter",
                last_run_at=datetime(2025, 6, 15, 11, 50, tzinfo=UTC),
                next_run_at=datetime(2025, 6, 15, 12, 0, tzinfo=UTC),
                last_result=json.dumps({"filled": 2, "days_closed": 1, "outside_spend_usd": "0.20"}),
                last_error=error,
            )
        )


async def open_usage(pilot: Pilot[Any]) -> UsageScreen:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)
    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(app.screen, UsageScreen))
    await pilot.pause()
    assert isinstance(app.screen, UsageScreen)
    return app.screen


def text(screen: UsageScreen, selector: str) -> str:
    """What a Static shows, as plain text (Rich tables included)."""
    from rich.console import Console

    static = screen.query_one(selector, Static)
    if isinstance(static.content, str):
        return str(static.visual)  # as shown: markup stays text where the Static says so
    console = Console(width=60, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text()


def rows(screen: UsageScreen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def first_column(screen: UsageScreen, selector: str) -> list[str]:
    return [row[0] for row in rows(screen, selector)]


async def type_range(pilot: Pilot[Any], first: str, last: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#usage-from", Input).value = first
    field = screen.query_one("#usage-to", Input)
    field.value = last
    field.focus()
    await pilot.press("enter")
    await pilot.pause()


async def test_today_month_limit_and_breakdowns_of_the_users_org() -> None:
    seed()
    async with MaiApp().run_test(size=(120, 60)) as pilot:
        screen = await open_usage(pilot)
        assert screen.query_one("#usage-org", Select).value == screen.org_id
        assert (screen.query_one("#usage-from", Input).value, screen.query_one("#usage-to", Input).value) == (
            "2025-06-01",
            "2025-06-15",
        )
        today = text(screen, "#usage-today")
        assert "1,500" in today
        assert "1,000 · 500" in today
        assert "$2.00" in today  # raw
        assert "$2.60 · 2.34 EUR" in today  # billed with the 1.3 markup, and in the org's currency
        month = text(screen, "#usage-month")
        assert "Requests" in month
        assert " 3" in month
        assert "5,200" in month
        assert "3,500 · 1,700" in month
        assert "$6.40" in month  # raw: 2.00 + 3.00 + 1.20 + 0.20
        assert "$8.32 · 7.49 EUR" in month  # billed

        bar = screen.query_one(LimitBar)
        assert bar.share == Decimal("0.832")
        assert bar.has_class("-warning")
        assert not bar.has_class("-over")
        assert bar.label == "Monthly limit: 83% used · $8.32 · 7.49 EUR of $10.00 · 9.00 EUR"

        assert first_column(screen, "#usage-by-model") == [GPT, CLAUDE, "openrouter/(unattributed)"]
        assert rows(screen, "#usage-by-model")[0] == [GPT, "2", "2,200", "1,500", "700", "$3.20", "$4.16", "3.74"]
        assert first_column(screen, "#usage-by-user") == ["alice", "bob", "-"]
        differences = screen.query_one("#usage-reconcile", DataTable)
        assert rows(screen, "#usage-reconcile") == [
            ["2025-06-13", "day closed", "—", "$0.10", "OpenRouter $1.10 · ledger $1.00"],
            ["2025-06-10 08:00 CEST", "correction", "openrouter/(unattributed)", "$0.20", OUTSIDE_NOTE],
        ]
        assert all("bold" in str(cell.style) for cell in differences.get_row_at(0))  # highlighted
        cost = screen.query_one("#usage-cost-chart", BarChart)
        assert [label for label, _ in cost.points][-1] == "06-15"
        assert dict(cost.points)["06-14"] == Decimal("3.9")
        assert dict(screen.query_one("#usage-tokens-chart", BarChart).points)["05-20"] == 200


async def test_the_limit_bar_turns_red_over_the_limit_and_plain_well_under_it() -> None:
    seed(limit="5")
    async with MaiApp().run_test(size=(120, 60)) as pilot:
        screen = await open_usage(pilot)
        bar = screen.query_one(LimitBar)
        assert bar.has_class("-over")
        assert not bar.has_class("-warning")
        assert "over the limit" in bar.label

        context = load_context()
        with context.session() as session:
            set_org(session, context.current_user(session), "acme", OrgChanges(monthly_limit_usd="100"))
        await pilot.press("r")
        await pilot.pause()
        assert not bar.has_class("-over")
        assert not bar.has_class("-warning")
        assert bar.label.startswith("Monthly limit: 8% used")


async def test_the_date_range_filters_the_breakdowns_and_bad_dates_are_explained() -> None:
    seed()
    async with MaiApp().run_test(size=(120, 60)) as pilot:
        screen = await open_usage(pilot)
        await type_range(pilot, "2025-05-01", "2025-05-31")
        assert rows(screen, "#usage-by-model") == [[CLAUDE, "1", "200", "100", "100", "$0.40", "$0.52", "0.47"]]
        assert first_column(screen, "#usage-by-user") == ["bob"]
        assert "2025-05-01 – 2025-05-31: 1 request · 200 tokens" in text(screen, "#usage-range")

        await type_range(pilot, "2025-13-01", "2025-06-15")
        assert "From: '2025-13-01' is not a date; use YYYY-MM-DD" in text(screen, "#usage-problem")
        assert first_column(screen, "#usage-by-model") == [CLAUDE]  # the last good range stays

        await type_range(pilot, "2025-06-01", "[b]soon")  # shown as typed, never read as markup
        assert "To: '[b]soon' is not a date" in text(screen, "#usage-problem")

        await type_range(pilot, "2025-06-15", "2025-06-14")
        assert "The range ends (2025-06-14) before it starts (2025-06-15)." in text(screen, "#usage-problem")

        await type_range(pilot, "2025-06-14", "2025-06-15")
        assert text(screen, "#usage-problem").strip() == ""
        assert first_column(screen, "#usage-by-model") == [CLAUDE, GPT]
        assert pilot.app.is_running


async def test_csv_export_writes_the_breakdown_on_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    seed()
    notes: list[str] = []
    async with MaiApp().run_test(size=(120, 60)) as pilot:
        screen = await open_usage(pilot)
        monkeypatch.setattr(screen, "notify", lambda message, **_: notes.append(str(message)))
        await pilot.press("e")
        by_model = tmp_path / "usage-acme-2025-06-01-2025-06-15-model.csv"
        await wait_until(pilot, by_model.exists)

        screen.query_one(TabbedContent).active = "by-user"
        await pilot.pause()
        screen.query_one("#usage-by-user", DataTable).focus()
        await pilot.press("e")
        by_user = tmp_path / "usage-acme-2025-06-01-2025-06-15-user.csv"
        await wait_until(pilot, by_user.exists)

        screen.query_one("#usage-csv-path", Input).value = str(tmp_path / "mine.csv")
        await pilot.click("#usage-export-button")
        await wait_until(pilot, (tmp_path / "mine.csv").exists)

    model_lines = list(csv.reader(by_model.read_text().splitlines()))
    assert model_lines[0][0] == "model"
    assert [line[0] for line in model_lines[1:]] == [GPT, CLAUDE, "openrouter/(unattributed)"]
    gpt = dict(zip(model_lines[0], model_lines[1], strict=True))
    assert (gpt["requests"], gpt["raw_cost_usd"], gpt["billed_cost_usd"]) == ("2", "3.2", "4.16")
    user_lines = list(csv.reader(by_user.read_text().splitlines()))
    assert [line[0] for line in user_lines] == ["user", "alice", "bob", "-"]
    assert (tmp_path / "mine.csv").read_text() == by_user.read_text()
    assert notes[0] == f"Saved 3 rows to {by_model.resolve()}"


async def test_a_user_sees_only_their_org_and_cannot_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    seed_sync_status()
    context = load_context()
    with context.session() as session:
        add_user(session, context.current_user(session), "carol", org="globex")
    monkeypatch.setenv("MAI_USER", "carol")
    async with MaiApp().run_test(size=(120, 60)) as pilot:
        screen = await open_usage(pilot)
        assert screen.org_choices == [("globex", screen.org_id)]
        assert screen.query_one("#usage-org", Select).disabled
        assert not screen.query("#usage-sync-button")
        assert not screen.check_action("sync", ())
        await pilot.press("s")
        await pilot.pause()
        assert not any(worker.group == "usage-sync" for worker in screen.workers)
        assert "Nothing used by globex yet" in text(screen, "#usage-empty")
        assert "last run 2025-06-15 11:50 UTC" in text(screen, "#usage-sync-status")


async def test_an_admin_picks_any_org_and_syncs_now() -> None:
    seed()
    async with MaiApp().run_test(size=(120, 60)) as pilot:
        screen = await open_usage(pilot)
        assert [name for name, _ in screen.org_choices] == ["acme", "globex"]
        assert "never run" in text(screen, "#usage-sync-status")

        screen.query_one("#usage-org", Select).value = dict(screen.org_choices)["globex"]
        await wait_until(pilot, lambda: screen.org is not None and screen.org.name == "globex")
        assert screen.query_one("#usage-by-model", DataTable).row_count == 0
        assert "No monthly limit set for globex" in screen.query_one(LimitBar).label

        await pilot.click("#usage-sync-button")
        await wait_until(pilot, lambda: "last run" in text(screen, "#usage-sync-status"))
        await wait_until(pilot, lambda: not screen.query_one("#usage-sync-button", Button).disabled)
    with load_context().session(write=False) as session:
        status = session.get(SyncStatus, "openrouter")
        assert status is not None
        assert status.last_run_at is not None
        assert status.last_error is None


async def test_with_no_usage_the_screen_shows_zeros_and_a_friendly_line() -> None:
    async with MaiApp().run_test(size=(120, 60)) as pilot:
        screen = await open_usage(pilot)
        assert screen.org is not None
        assert screen.org.name == "personal"
        assert "Nothing used by personal yet" in text(screen, "#usage-empty")
        assert "$0.00" in text(screen, "#usage-month")
        assert screen.query_one(LimitBar).share is None
        assert screen.query_one("#usage-by-model", DataTable).row_count == 0
        assert "No reconciliation differences" in text(screen, "#usage-reconcile-empty")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, UsageScreen))


async def test_usage_is_in_the_command_palette() -> None:
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        commands["Usage"].callback()
        await wait_until(pilot, lambda: isinstance(app.screen, UsageScreen))
        await pilot.press("q")
        await wait_until(pilot, lambda: not isinstance(app.screen, UsageScreen))


def test_usage_screen_snapshot(snap_compare: Any) -> None:
    seed()
    seed_sync_status(error="acme: OpenRouter has no key 3f2a9c…")
    with load_context().session() as session:
        acme = get_org(session, "acme")
        note = "checked: no difference"
        outside = call(datetime(2025, 6, 12, 6, 0, tzinfo=UTC), "openrouter/(unattributed)", None, 0, 0, "0")
        outside.kind, outside.cost_source = CallKind.RECONCILE.value, CostSource.OPENROUTER_RECONCILE.value
        outside.note = note
        ledger.record(session, acme, outside)  # a zero difference: not highlighted
        session.execute(update(DailyUsage).values(updated_at=datetime(2025, 6, 15, 9, 0, tzinfo=UTC)))

    async def open_it(pilot: Pilot[Any]) -> None:
        await open_usage(pilot)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(120, 72), run_before=open_it)
