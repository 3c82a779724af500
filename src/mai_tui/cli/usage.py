"""`mai usage sync|live|record|report|statement|status`: the ledger from the terminal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mai_tui.cli.output import print_json, print_table, say, signed_in, warn
from mai_tui.i18n import _

if TYPE_CHECKING:
    from sqlmodel import Session

    from mai_tui.core.store.models import Organization, User
    from mai_tui.core.usage.reports import Statement
    from mai_tui.core.usage.sync import SyncReport

app = typer.Typer(help=_("Usage, costs and invoices per organization; the OpenRouter sync."), no_args_is_help=True)

JsonOut = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]


def _visible_org(session: Session, actor: User, name: str) -> Organization:
    from mai_tui.core.usage.reports import visible_org

    return visible_org(session, actor, name)


def _summary(report: SyncReport) -> str:
    if report.lease_held_by:
        return _("Another instance is syncing ({owner}); nothing done.").format(owner=report.lease_held_by)
    text = _(
        "Completed {filled} calls ({pending} still waiting), closed {days} days, outside spend ${outside:f}."
    ).format(
        filled=report.filled, pending=report.still_pending, days=report.days_closed, outside=report.outside_spend_usd
    )
    if report.errors:
        text += " " + _("Errors: {errors}").format(errors="; ".join(report.errors))
    return text


@app.command("sync", help=_("Read OpenRouter's records into the ledger now (admin); --watch keeps doing it."))
def sync(
    days_back: Annotated[
        int | None, typer.Option("--days-back", min=0, max=90, help=_("Days to look back (default: the setting)."))
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help=_("Sync every OPENROUTER_USAGE_SYNC_INTERVAL seconds."))
    ] = False,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.core.accounts import require_admin
    from mai_tui.core.usage import sync as syncing

    with signed_in() as (ctx, _session, actor):
        require_admin(actor)  # before anything else: a plain user learns it at once

    def show(report: SyncReport) -> None:
        if json_out:
            print_json(report.as_dict())
        else:
            say(_summary(report))
        sys.stdout.flush()

    if watch:
        syncing.watch(ctx, actor, days_back=days_back, on_report=show)
        return
    report = syncing.run_once(ctx, actor, days_back=days_back)
    show(report)
    if report.errors:
        raise typer.Exit(1)


@app.command("live", help=_("Today's usage of an organization, in its timezone."))
def live(org: Annotated[str, typer.Argument(metavar="ORG")], json_out: JsonOut = False) -> None:
    from zoneinfo import ZoneInfo

    from mai_tui.core.usage.reports import in_currency, today

    with signed_in() as (_ctx, session, actor):
        found = _visible_org(session, actor, org)
        day, totals = today(session, found)
        updated = totals.updated_at
        data: dict[str, Any] = {
            "org": found.name,
            "date": day.isoformat(),
            "timezone": found.timezone,
            "requests": totals.requests,
            "tokens": totals.tokens,
            "prompt_tokens": totals.prompt_tokens,
            "completion_tokens": totals.completion_tokens,
            "raw_cost_usd": totals.raw_cost_usd,
            "billed_cost_usd": totals.billed_cost_usd,
            "currency": found.currency,
            "billed_cost": in_currency(found, totals.billed_cost_usd),
            "last_updated": updated.astimezone(ZoneInfo(found.timezone)) if updated else None,
        }
    if json_out:
        print_json(data)
        return
    print_table([_("field"), _("value")], list(data.items()), title=_("{org} today").format(org=org))


@app.command("record", help=_("Add a manual ledger row (admin). Give --tokens, or the input/output split."))
def record(
    model: Annotated[str, typer.Option("--model", help=_("PROVIDER/MODEL."))],
    cost: Annotated[str, typer.Option("--cost", help=_("Cost in USD, e.g. 0.0123."))],
    tokens: Annotated[int | None, typer.Option("--tokens", help=_("Total tokens."))] = None,
    input_tokens: Annotated[int | None, typer.Option("--input-tokens", help=_("Prompt tokens, if known."))] = None,
    output_tokens: Annotated[
        int | None, typer.Option("--output-tokens", help=_("Completion tokens, if known."))
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help=_("Organization (default: the user's)."))] = None,
    user: Annotated[str | None, typer.Option("--user", help=_("User the usage belongs to."))] = None,
    note: Annotated[str | None, typer.Option("--note", help=_("Why this row exists."))] = None,
) -> None:
    from mai_tui.core.usage.admin import ManualRecord, record_manual

    with signed_in() as (_ctx, session, actor):
        entry = record_manual(
            session, actor, ManualRecord(model, cost, tokens, input_tokens, output_tokens, org, user, note)
        )
        say(
            _("Recorded ${raw:f} (billed ${billed:f}) for {model} on {day}.").format(
                raw=entry.raw_cost_usd, billed=entry.billed_cost_usd, model=entry.model, day=entry.day.isoformat()
            )
        )


@app.command("report", help=_("Usage between two days, by day, model, user or organization."))
def report(
    first: Annotated[str, typer.Option("--from", help=_("First day, YYYY-MM-DD."))],
    last: Annotated[str, typer.Option("--to", help=_("Last day, YYYY-MM-DD."))],
    by: Annotated[str, typer.Option("--by", help=_("day, model, user or org."))] = "day",
    org: Annotated[str | None, typer.Option("--org", help=_("Only this organization."))] = None,
    csv_out: Annotated[bool, typer.Option("--csv", help=_("Print CSV."))] = False,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.core.errors import InvalidInput
    from mai_tui.core.store.models import Role
    from mai_tui.core.usage.billing import payer
    from mai_tui.core.usage.reports import GroupBy, parse_day, report_csv
    from mai_tui.core.usage.reports import report as build

    try:
        group = GroupBy(by)
    except ValueError:
        raise InvalidInput(_("--by must be one of: day, model, user, org")) from None
    with signed_in() as (_ctx, session, actor):
        scope = _visible_org(session, actor, org) if org else None
        if scope is None and actor.role != Role.ADMIN:
            scope = payer(session, actor)  # a member sees their own org only
        rows = build(session, parse_day(first, "--from"), parse_day(last, "--to"), group, org=scope)
    if csv_out:
        sys.stdout.write(report_csv(rows, group))
    elif json_out:
        print_json(
            [
                {
                    group.value: r.key,
                    "requests": r.requests,
                    "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens,
                    "other_tokens": r.unsplit_tokens,
                    "raw_cost_usd": r.raw_cost_usd,
                    "markup_usd": r.markup_usd,
                    "billed_cost_usd": r.billed_cost_usd,
                }
                for r in rows
            ]
        )
    else:
        print_table(
            [group.value, _("requests"), _("tokens"), _("raw (USD)"), _("markup (USD)"), _("billed (USD)")],
            [(r.key, r.requests, r.tokens, r.raw_cost_usd, r.markup_usd, r.billed_cost_usd) for r in rows],
        )


def _statement_markdown(statement: Statement) -> str:
    from mai_tui.core.usage.reports import statement_in_currency

    lines = [
        "# " + _("Statement {org} {month}").format(org=statement.org, month=statement.month),
        "",
        _("Period: {first} to {last}").format(first=statement.first, last=statement.last),
        "",
        "| "
        + " | ".join(
            [_("model"), _("user"), _("requests"), _("tokens"), _("raw (USD)"), _("markup (USD)"), _("billed (USD)")]
        )
        + " |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for line in statement.lines:
        tokens = line.prompt_tokens + line.completion_tokens + line.unsplit_tokens
        lines.append(
            f"| {line.model} | {line.user} | {line.requests} | {tokens} | {line.raw_cost_usd:f} | "
            f"{line.markup_usd:f} | {line.billed_cost_usd:f} |"
        )
    lines += [
        "",
        _("Total billed: ${billed:f} (raw ${raw:f})").format(
            billed=statement.billed_cost_usd, raw=statement.raw_cost_usd
        ),
    ]
    converted = statement_in_currency(statement)
    if converted is not None:
        lines.append(converted)
    return "\n".join(lines) + "\n"


@app.command("statement", help=_("A month's invoice lines of an organization, per model and user."))
def statement(
    org: Annotated[str, typer.Argument(metavar="ORG")],
    month: Annotated[str, typer.Option("--month", help=_("YYYY-MM, in the organization's timezone."))],
    csv_out: Annotated[bool, typer.Option("--csv", help=_("Print CSV."))] = False,
    md_out: Annotated[bool, typer.Option("--md", help=_("Print Markdown."))] = False,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.core.usage.reports import statement as build
    from mai_tui.core.usage.reports import statement_csv

    with signed_in() as (_ctx, session, actor):
        result = build(session, _visible_org(session, actor, org), month)
    if csv_out:
        sys.stdout.write(statement_csv(result))
    elif md_out:
        sys.stdout.write(_statement_markdown(result))
    elif json_out:
        print_json(
            {
                "org": result.org,
                "month": result.month,
                "currency": result.currency,
                "exchange_rate": result.exchange_rate,
                "raw_cost_usd": result.raw_cost_usd,
                "billed_cost_usd": result.billed_cost_usd,
                "lines": [
                    {
                        "model": line.model,
                        "user": line.user,
                        "requests": line.requests,
                        "prompt_tokens": line.prompt_tokens,
                        "completion_tokens": line.completion_tokens,
                        "other_tokens": line.unsplit_tokens,
                        "raw_cost_usd": line.raw_cost_usd,
                        "markup_usd": line.markup_usd,
                        "billed_cost_usd": line.billed_cost_usd,
                    }
                    for line in result.lines
                ],
            }
        )
    else:
        print_table(
            [_("model"), _("user"), _("requests"), _("raw (USD)"), _("markup (USD)"), _("billed (USD)")],
            [(x.model, x.user, x.requests, x.raw_cost_usd, x.markup_usd, x.billed_cost_usd) for x in result.lines],
            title=_("Statement {org} {month}: billed ${billed:f}").format(
                org=result.org, month=result.month, billed=result.billed_cost_usd
            ),
        )


@app.command("status", help=_("The OpenRouter sync: last run, next run, result, error."))
def status(json_out: JsonOut = False) -> None:
    import json

    from mai_tui.core.usage.lease import status as read_status

    with signed_in() as (ctx, _session, _actor):  # a known user, like every other usage command
        found = read_status(ctx)
    data: dict[str, Any] = {
        "last_run_at": found.last_run_at if found else None,
        "next_run_at": found.next_run_at if found else None,
        "running": bool(found and found.lease_owner),
        "result": json.loads(found.last_result) if found and found.last_result else None,
        "error": found.last_error if found else None,
    }
    if json_out:
        print_json(data)
        return
    if found is None or found.last_run_at is None:
        say(_("The OpenRouter sync has not run yet (mai usage sync)."))
        return
    print_table([_("field"), _("value")], [(k, v) for k, v in data.items() if k != "result"])
    if found.last_error:
        warn(found.last_error)
