"""The usage screen: an org's today and this month against its limit, 30-day charts, spend by
model and by user over a date range (with CSV export), reconciliation differences, and the
OpenRouter sync's status with "sync now" for admins.

Reads are indexed rollups, so they run on the UI thread; the sync (network) runs in a thread.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static, TabbedContent, TabPane

from mai_tui.core import formats
from mai_tui.core.errors import InvalidInput, MaiError
from mai_tui.core.store.models import Organization, Role
from mai_tui.core.store.types import utcnow
from mai_tui.core.usage import reports
from mai_tui.core.usage.billing import WARN_AT, payer
from mai_tui.core.usage.ledger import Totals
from mai_tui.core.usage.orgs import list_orgs
from mai_tui.core.usage.reports import GroupBy, ReportRow
from mai_tui.i18n import _, ngettext
from mai_tui.tui.widgets.charts import BarChart, LimitBar

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.core.store.models import ClosedDay, LedgerEntry, SyncStatus
    from mai_tui.core.usage.sync import SyncReport

log = logging.getLogger(__name__)

DAYS = 30  # the charts' span
BREAKDOWNS = {"by-model": GroupBy.MODEL, "by-user": GroupBy.USER}


def usd(amount: Decimal) -> str:
    """Dollars for reading: cents from $1 up, up to six places below (the CSV keeps every digit)."""
    if abs(amount) >= 1:
        return formats.money(amount, places=2)
    return formats.money(amount.quantize(Decimal("0.000001")))  # trailing zeros go, down to cents


def tokens(count: int | Decimal) -> str:
    return formats.number(int(count))


def right(value: str) -> Text:
    return Text(value, justify="right")


class UsageScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", _("Back"), id="usage.back"),
        Binding("r", "reload", _("Refresh"), id="usage.refresh"),
        Binding("e", "export", _("Export CSV"), id="usage.export"),
        Binding("s", "sync", _("Sync now"), id="usage.sync"),
    ]

    @staticmethod
    def now() -> datetime:
        """What "now" is: tests freeze it so today, this month and the charts stay put."""
        return utcnow()

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        with context.session() as session:  # may create the `personal` org on first sight
            user = context.current_user(session)
            self.user = user  # who asks for "sync now" (an admin: checked again in the core)
            own = payer(session, user)
            self.admin = user.role == Role.ADMIN
            visible = list_orgs(session) if self.admin else [own]
            self.org_choices = [(org.name, org.id or 0) for org in visible]
            self.org_id = own.id or 0
        self.org: Organization | None = None
        self.first = self.last = date.min  # the applied range, set from the org's "today" on mount
        self.custom_range = False  # the user chose the range: keep it when the org changes
        self.rows: dict[GroupBy, list[ReportRow]] = {GroupBy.MODEL: [], GroupBy.USER: []}

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with VerticalScroll(id="usage"):
            with Horizontal(id="usage-filters"):
                yield Label(_("Organization"))
                yield Select(
                    self.org_choices,
                    value=self.org_id,
                    allow_blank=False,
                    disabled=len(self.org_choices) < 2,
                    compact=True,
                    id="usage-org",
                )
                yield Label(_("From"))
                yield Input(placeholder="YYYY-MM-DD", compact=True, id="usage-from")
                yield Label(_("To"))
                yield Input(placeholder="YYYY-MM-DD", compact=True, id="usage-to")
                yield Button(_("Apply"), compact=True, id="usage-apply")
            yield Static("", id="usage-problem", markup=False)
            yield Static("", id="usage-empty", markup=False)
            with Horizontal(id="usage-totals"):
                yield Static(id="usage-today", classes="totals")
                yield Static(id="usage-month", classes="totals")
            yield LimitBar(WARN_AT, id="usage-limit")
            with Horizontal(id="usage-charts"):
                with Vertical(id="usage-cost-box", classes="chart"):
                    yield BarChart(usd, empty=_("nothing used in the last 30 days"), id="usage-cost-chart")
                with Vertical(id="usage-tokens-box", classes="chart"):
                    yield BarChart(tokens, empty=_("nothing used in the last 30 days"), id="usage-tokens-chart")
            yield Static("", id="usage-range", markup=False)
            with TabbedContent(id="usage-breakdown"):
                with TabPane(_("By model"), id="by-model"):
                    yield DataTable(id="usage-by-model", cursor_type="row", zebra_stripes=True)
                with TabPane(_("By user"), id="by-user"):
                    yield DataTable(id="usage-by-user", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="usage-export"):
                yield Label(_("Save as"))
                yield Input(compact=True, id="usage-csv-path")
                yield Button(_("Export CSV"), compact=True, id="usage-export-button")
            yield Static(_("Reconciliation with OpenRouter"), classes="usage-heading")
            yield Static("", id="usage-reconcile-empty", markup=False)
            yield DataTable(id="usage-reconcile", cursor_type="row")
            with Horizontal(id="usage-sync"):
                with Vertical(id="usage-sync-lines"):
                    yield Static("", id="usage-sync-status", markup=False)
                    yield Static("", id="usage-sync-error", markup=False)
                if self.admin:
                    yield Button(_("Sync now"), compact=True, id="usage-sync-button", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.problem("")
        self.query_one("#usage-cost-box").border_title = _("Daily billed cost · last 30 days")
        self.query_one("#usage-tokens-box").border_title = _("Daily tokens · last 30 days")
        self.load(reset_range=True)
        self.query_one("#usage-by-model", DataTable).focus(scroll_visible=False)  # the totals stay in view

    # --- reading ------------------------------------------------------------------------
    def load(self, *, reset_range: bool = False) -> None:
        """Read everything shown for the selected org and range (indexed rollups: quick)."""
        now = self.now()
        try:
            with self.context.session(write=False) as session:
                org = session.get(Organization, self.org_id)
                if org is None:
                    self.problem(_("This organization no longer exists."))
                    return
                if reset_range:
                    self.last = reports.org_today(org, now)
                    self.first = self.last.replace(day=1)
                    self.query_one("#usage-from", Input).value = self.first.isoformat()
                    self.query_one("#usage-to", Input).value = self.last.isoformat()
                live = reports.live(session, org, now)
                series = reports.daily_series(session, org, DAYS, now)
                self.rows = {by: reports.report(session, self.first, self.last, by, org=org) for by in self.rows}
                differences = reports.reconciliations(session, org, self.first, self.last)
                closed = [day for day in reports.closed_days(session, org) if self.first <= day.day <= self.last]
        except MaiError as error:
            self.problem(str(error))
            return
        self.org = org
        self.sub_title = _("Usage · {org}").format(org=org.name)
        self._show_totals(live)
        self._show_charts(series)
        self._show_breakdowns()
        self._show_reconciliation(differences, closed)
        self.show_sync_status()
        nothing = not live.month.requests and not any(p.tokens for p in series) and not self.rows[GroupBy.MODEL]
        empty = self.query_one("#usage-empty", Static)
        empty.update(
            _("Nothing used by {org} yet: the figures fill in after the first model call.").format(org=org.name)
            if nothing
            else ""
        )
        empty.display = nothing
        self.query_one("#usage-csv-path", Input).placeholder = self.csv_name()

    def _show_totals(self, live: reports.Live) -> None:
        assert self.org is not None
        today, month = self.query_one("#usage-today", Static), self.query_one("#usage-month", Static)
        today.border_title = _("Today · {day}").format(day=formats.date(live.day))
        month.border_title = _("This month · {month}").format(month=live.day.strftime("%Y-%m"))
        today.border_subtitle = (
            _("updated {at}").format(at=self.local(live.today.updated_at)) if live.today.updated_at else ""
        )
        today.update(self._totals_table(live.today))
        month.update(self._totals_table(live.month))
        limit = live.monthly_limit_usd
        share = None if limit is None else (live.limit_share if limit else Decimal(1))  # a zero limit allows nothing
        if limit is None:
            label = _("No monthly limit set for {org}").format(org=self.org.name)
        else:
            over = share is not None and share >= 1
            label = (
                _("Monthly limit: {share}% used · {spent} of {limit} · over the limit")
                if over
                else _("Monthly limit: {share}% used · {spent} of {limit}")
            ).format(
                share=int((share or Decimal(0)) * 100),
                spent=self.money(live.month.billed_cost_usd),
                limit=self.money(limit),
            )
        self.query_one(LimitBar).show(share, label)

    def _totals_table(self, totals: Totals) -> Table:
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(style="dim")
        grid.add_column(justify="right")
        grid.add_row(_("Requests"), tokens(totals.requests))
        grid.add_row(_("Tokens"), tokens(totals.tokens))
        grid.add_row(_("In · out"), f"{tokens(totals.prompt_tokens)} · {tokens(totals.completion_tokens)}")
        grid.add_row(_("Raw cost"), usd(totals.raw_cost_usd))
        grid.add_row(_("Billed"), self.money(totals.billed_cost_usd))
        return grid

    def _show_charts(self, series: list[reports.DayPoint]) -> None:
        labels = [point.day.strftime("%m-%d") for point in series]
        cost = self.query_one("#usage-cost-chart", BarChart)
        cost.plot(list(zip(labels, (p.billed_cost_usd for p in series), strict=True)))
        self.query_one("#usage-tokens-chart", BarChart).plot(
            list(zip(labels, (Decimal(p.tokens) for p in series), strict=True))
        )

    def _show_breakdowns(self) -> None:
        model_rows = self.rows[GroupBy.MODEL]
        requests = sum(r.requests for r in model_rows)
        self.query_one("#usage-range", Static).update(
            ngettext(
                "{first} – {last}: {requests} request · {tokens} tokens · billed {billed}",
                "{first} – {last}: {requests} requests · {tokens} tokens · billed {billed}",
                requests,
            ).format(
                first=formats.date(self.first),
                last=formats.date(self.last),
                requests=tokens(requests),
                tokens=tokens(sum(r.tokens for r in model_rows)),
                billed=self.money(sum((r.billed_cost_usd for r in model_rows), Decimal(0))),
            )
        )
        self._fill_breakdown(self.query_one("#usage-by-model", DataTable), _("Model"), model_rows)
        self._fill_breakdown(self.query_one("#usage-by-user", DataTable), _("User"), self.rows[GroupBy.USER])

    def _fill_breakdown(self, table: DataTable[Text], first_column: str, rows: list[ReportRow]) -> None:
        assert self.org is not None
        foreign = self.org.currency != "USD"
        table.clear(columns=True)
        table.add_column(first_column)
        for name in (_("Requests"), _("Tokens"), _("In"), _("Out"), _("Raw (USD)"), _("Billed (USD)")):
            table.add_column(right(name))
        if foreign:
            table.add_column(right(_("Billed ({currency})").format(currency=self.org.currency)))
        for row in rows:
            cells = [
                Text(row.key),
                right(tokens(row.requests)),
                right(tokens(row.tokens)),
                right(tokens(row.prompt_tokens)),
                right(tokens(row.completion_tokens)),
                right(usd(row.raw_cost_usd)),
                right(usd(row.billed_cost_usd)),
            ]
            if foreign:
                cells.append(right(formats.number(reports.in_currency(self.org, row.billed_cost_usd), places=2)))
            table.add_row(*cells)

    def _show_reconciliation(self, entries: list[LedgerEntry], closed: list[ClosedDay]) -> None:
        table = self.query_one("#usage-reconcile", DataTable)
        table.clear(columns=True)
        table.add_columns(_("When"), _("What"), _("Model"), right(_("Difference (USD)")), _("Note"))
        warning = self.app.get_css_variables().get("warning", "yellow")
        zone = ZoneInfo(self.org.timezone if self.org is not None else "UTC")
        rows: list[tuple[str, str, str, str, Decimal, str]] = [  # (ISO sort key, when, what, model, …)
            (
                e.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                self.local(e.created_at),
                _("correction"),
                e.model,
                e.raw_cost_usd,
                e.note or "",
            )
            for e in entries
        ]
        rows += [
            (
                day.day.isoformat(),
                formats.date(day.day),
                _("day closed"),
                "—",
                day.difference_usd,
                _("OpenRouter {activity} · ledger {ledger}").format(
                    activity=usd(day.activity_usd), ledger=usd(day.ledger_usd)
                ),
            )
            for day in closed
        ]
        rows.sort(key=lambda row: row[0], reverse=True)  # ISO dates first in each: newest on top
        for _key, when, what, model, difference, note in rows:
            style = f"bold {warning}" if difference else ""
            table.add_row(
                Text(when, style),
                Text(what, style),
                Text(model, style),
                Text(usd(difference), style, justify="right"),
                Text(note, style),
            )
        empty = self.query_one("#usage-reconcile-empty", Static)
        empty.update("" if rows else _("No reconciliation differences in this range."))
        empty.display = not rows
        table.display = bool(rows)

    def show_sync_status(self, running: bool = False) -> None:
        from mai_tui.core.usage.lease import status

        state: SyncStatus | None = status(self.context)
        line = self.query_one("#usage-sync-status", Static)
        error = self.query_one("#usage-sync-error", Static)
        if running:
            line.update(_("OpenRouter sync: running…"))
        elif state is None or state.last_run_at is None:
            line.update(_("OpenRouter sync: never run"))
        else:
            parts = [
                _("OpenRouter sync: last run {at}").format(at=self.local(state.last_run_at)),
                _("next {at}").format(at=self.local(state.next_run_at)) if state.next_run_at else "",
                self._result_summary(state.last_result),
            ]
            line.update(" · ".join(part for part in parts if part))
        problem = state.last_error if state is not None and not running else None
        error.update(_("Last error: {error}").format(error=problem) if problem else "")
        error.display = bool(problem)

    @staticmethod
    def _result_summary(result: str | None) -> str:
        """What the last cycle did, in a few words (the result is the sync's own JSON)."""
        try:
            data = json.loads(result or "{}")
            filled, closed = int(data.get("filled") or 0), int(data.get("days_closed") or 0)
            outside = Decimal(str(data.get("outside_spend_usd") or 0))
        except (ValueError, TypeError, AttributeError, ArithmeticError):
            return ""
        parts = []
        if filled:
            parts.append(ngettext("{n} call completed", "{n} calls completed", filled).format(n=filled))
        if closed:
            parts.append(ngettext("{n} day closed", "{n} days closed", closed).format(n=closed))
        if outside:
            parts.append(_("outside spend {usd}").format(usd=usd(outside)))
        return ", ".join(parts)

    # --- formatting in the org's terms ---------------------------------------------------
    def local(self, at: datetime | None) -> str:
        """A UTC time as the org's clock shows it."""
        if at is None:
            return "—"
        zone = ZoneInfo(self.org.timezone if self.org is not None else "UTC")
        return formats.datetime_(at, zone)

    def money(self, amount: Decimal) -> str:
        """USD, and the org's own currency beside it when that is not USD."""
        if self.org is None or self.org.currency == "USD":
            return usd(amount)
        return f"{usd(amount)} · {formats.number(reports.in_currency(self.org, amount), places=2)} {self.org.currency}"

    def csv_name(self) -> str:
        org = self.org.name if self.org is not None else "org"
        return f"usage-{org}-{self.first.isoformat()}-{self.last.isoformat()}-{self.breakdown().value}.csv"

    def breakdown(self) -> GroupBy:
        return BREAKDOWNS.get(self.query_one(TabbedContent).active, GroupBy.MODEL)

    def problem(self, text: str) -> None:
        shown = self.query_one("#usage-problem", Static)
        shown.update(text)
        shown.display = bool(text)

    # --- what the user does ------------------------------------------------------------
    def apply_range(self) -> None:
        try:
            first = reports.parse_day(self.query_one("#usage-from", Input).value, _("From"))
            last = reports.parse_day(self.query_one("#usage-to", Input).value, _("To"))
        except InvalidInput as error:
            self.problem(str(error))
            return
        if last < first:
            self.problem(
                _("The range ends ({last}) before it starts ({first}).").format(
                    first=first.isoformat(), last=last.isoformat()
                )
            )
            return
        self.problem("")
        self.first, self.last, self.custom_range = first, last, True
        self.load()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("usage-from", "usage-to"):
            self.apply_range()
        elif event.input.id == "usage-csv-path":
            self.action_export()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions: dict[str | None, Callable[[], object]] = {
            "usage-apply": self.apply_range,
            "usage-export-button": self.action_export,
            "usage-sync-button": self.action_sync,
        }
        actions.get(event.button.id, lambda: None)()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "usage-org" or not isinstance(event.value, int) or event.value == self.org_id:
            return
        self.org_id = event.value
        self.problem("")
        self.load(reset_range=not self.custom_range)

    def on_tabbed_content_tab_activated(self) -> None:
        self.query_one("#usage-csv-path", Input).placeholder = self.csv_name()

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()

    def action_export(self) -> None:
        """The breakdown on show (by model or by user) as CSV: to the typed path, else the working folder."""
        if self.org is None:
            return
        by, name = self.breakdown(), self.csv_name()
        typed = self.query_one("#usage-csv-path", Input).value.strip()
        path = Path(typed).expanduser() if typed else Path.cwd() / name
        if path.is_dir():
            path = path / name
        try:
            path.write_text(reports.report_csv(self.rows[by], by), encoding="utf-8")
        except OSError as error:
            self.notify(
                _("Cannot write {path}: {error}").format(path=path, error=error.strerror),
                severity="error",
                markup=False,
            )
            return
        self.notify(
            ngettext("Saved {n} row to {path}", "Saved {n} rows to {path}", len(self.rows[by])).format(
                n=len(self.rows[by]), path=path.resolve()
            ),
            title=_("CSV"),
            markup=False,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.admin if action == "sync" else True

    def action_sync(self) -> None:
        if not self.admin or any(w.group == "usage-sync" and not w.is_finished for w in self.workers):
            return
        self.query_one("#usage-sync-button", Button).disabled = True
        self.show_sync_status(running=True)
        self.sync_now()

    @work(thread=True, exclusive=True, group="usage-sync", exit_on_error=False)
    def sync_now(self) -> None:
        """One OpenRouter sync cycle (network: off the UI thread), then show what it did."""
        from mai_tui.core.usage.sync import run_once

        try:
            report = run_once(self.context, self.user)
        except Exception as error:  # never die silently in a worker: show it, log the details
            log.exception("sync now failed")
            self.app.call_from_thread(self.synced, None, f"{type(error).__name__}: {error}".splitlines()[0])
            return
        self.app.call_from_thread(self.synced, report, None)

    def synced(self, report: SyncReport | None, failure: str | None) -> None:
        if not self.is_attached:
            return
        self.query_one("#usage-sync-button", Button).disabled = False
        self.load()
        if report is None:
            self.notify(_("Sync failed: {reason}").format(reason=failure), severity="error", timeout=10, markup=False)
        elif report.lease_held_by:
            self.notify(
                _("Another instance is syncing ({owner}): try again in a moment.").format(owner=report.lease_held_by),
                severity="warning",
                markup=False,
            )
        elif report.errors:
            self.notify("; ".join(report.errors), title=_("Sync"), severity="error", timeout=10, markup=False)
        else:
            self.notify(_("Sync done."), title=_("Sync"))
