"""`mai orgs add|set|assign|list`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mai_tui.cli.output import print_json, print_table, say, signed_in
from mai_tui.i18n import _

if TYPE_CHECKING:
    from mai_tui.core.store.models import Organization

app = typer.Typer(help=_("Client organizations: markup, limits, currency, timezone."), no_args_is_help=True)

Markup = Annotated[str | None, typer.Option("--markup", help=_("Markup rate, e.g. 1.3 (default for new orgs)."))]
Limit = Annotated[str | None, typer.Option("--monthly-limit", help=_("Monthly limit in USD."))]
Currency = Annotated[str | None, typer.Option("--currency", help=_("ISO 4217 code for display, e.g. EUR."))]
Timezone = Annotated[str | None, typer.Option("--timezone", help=_("IANA timezone, e.g. Europe/Warsaw."))]
Rate = Annotated[str | None, typer.Option("--exchange-rate", help=_("Units of the currency per USD, for display."))]
PerMinute = Annotated[int | None, typer.Option("--rpm", help=_("Requests per minute (0: no limit)."))]


def _row(org: Organization, has_key: bool) -> dict[str, Any]:
    return {
        "name": org.name,
        "markup_rate": org.markup_rate,
        "monthly_limit_usd": org.monthly_limit_usd,
        "currency": org.currency,
        "timezone": org.timezone,
        "active": org.active,
        "exchange_rate": org.exchange_rate,
        "requests_per_minute": org.requests_per_minute,
        "has_openrouter_key": has_key,
    }


@app.command("add", help=_("Add an organization (admin only)."))
def add(
    name: str,
    markup: Markup = None,
    monthly_limit: Limit = None,
    currency: Currency = None,
    timezone: Timezone = None,
    exchange_rate: Rate = None,
    rpm: PerMinute = None,
) -> None:
    from mai_tui.core.usage.orgs import OrgChanges, add_org

    changes = OrgChanges(markup, monthly_limit, currency, timezone, None, exchange_rate, rpm)
    with signed_in() as (_ctx, session, actor):
        org = add_org(session, actor, name, changes)
    say(_("Added organization '{name}' (markup {markup}).").format(name=org.name, markup=org.markup_rate))


@app.command("set", help=_("Change an organization (admin only)."))
def set_org(
    name: Annotated[str, typer.Argument(metavar="ORG")],
    markup: Markup = None,
    monthly_limit: Limit = None,
    currency: Currency = None,
    timezone: Timezone = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help=_("Allow or stop its usage."))] = None,
    exchange_rate: Rate = None,
    rpm: PerMinute = None,
) -> None:
    from mai_tui.core.usage.orgs import OrgChanges
    from mai_tui.core.usage.orgs import set_org as change

    changes = OrgChanges(markup, monthly_limit, currency, timezone, active, exchange_rate, rpm)
    with signed_in() as (_ctx, session, actor):
        org = change(session, actor, name, changes)
    say(_("Updated organization '{name}'.").format(name=org.name))


@app.command("assign", help=_("Make USER a member of ORG (admin only)."))
def assign(
    user: Annotated[str, typer.Argument(metavar="USER")], org: Annotated[str, typer.Argument(metavar="ORG")]
) -> None:
    from mai_tui.core.usage.orgs import assign_user

    with signed_in() as (_ctx, session, actor):
        assign_user(session, actor, user, org)
    say(_("'{user}' now belongs to '{org}'.").format(user=user, org=org))


@app.command("list", help=_("List organizations."))
def list_orgs(json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    from mai_tui.core.secrets import secret_name
    from mai_tui.core.usage.orgs import list_orgs as orgs

    with signed_in() as (ctx, session, _actor):
        store = ctx.secrets
        rows = [_row(org, store.get(secret_name("openrouter", org.name)) is not None) for org in orgs(session)]
    if json_out:
        print_json(rows)
        return
    headers = [
        _("name"),
        _("markup"),
        _("monthly limit (USD)"),
        _("currency"),
        _("timezone"),
        _("active"),
        _("exchange rate"),
        _("requests/min"),
        _("own OpenRouter key"),
    ]
    print_table(headers, [list(r.values()) for r in rows])
