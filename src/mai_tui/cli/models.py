"""`mai models list|test`."""

from __future__ import annotations

from typing import Annotated

import typer

from mai_tui.cli.output import context, print_json, print_table, say, warn
from mai_tui.i18n import _

app = typer.Typer(help=_("The models of every configured provider."), no_args_is_help=True)


@app.command("list", help=_("List models (from the cache; fetched when the cache is empty or with --refresh)."))
def list_models(
    provider: Annotated[str | None, typer.Option("--provider", help=_("Only this provider."))] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help=_("Fetch the lists from the providers now."))] = False,
    json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
) -> None:
    import asyncio

    from mai_tui.core.providers import catalogue
    from mai_tui.core.providers.registry import Providers

    ctx = context()
    providers = Providers(ctx.settings, ctx.secrets)
    names = catalogue.configured(providers, provider)  # unknown names fail here, before anything is fetched
    with ctx.session() as session:
        stale = [n for n in names if refresh or not catalogue.cached(session, n)]
    if stale:
        listings = asyncio.run(catalogue.fetch(providers, stale))
        for listing in listings:
            if listing.error is not None:
                warn(_("{error} (showing the cached list)").format(error=listing.error))
        catalogue.save(ctx, listings)  # new list prices become dated rows of the price table
    with ctx.session(write=False) as session:
        entries = [e for n in names for e in catalogue.cached(session, n)]
    rows = [
        {
            "id": e.id,
            "provider": e.provider,
            "context_length": e.context_length,
            "input_price_per_mtok": e.input_price_per_mtok,
            "output_price_per_mtok": e.output_price_per_mtok,
            "fetched_at": e.fetched_at,
        }
        for e in entries
    ]
    if json_out:
        print_json(rows)
        return
    if not rows:
        say(_("No models: configure a provider first (mai keys set PROVIDER, or set providers.ollama.base_url)."))
        return
    print_table(
        [_("model"), _("context"), _("input $/Mtok"), _("output $/Mtok")],
        [(r["id"], r["context_length"], r["input_price_per_mtok"], r["output_price_per_mtok"]) for r in rows],
    )


@app.command("test", help=_("Check each provider answers (lists its models: no tokens spent)."))
def check_providers(provider: Annotated[str | None, typer.Argument(help=_("Only this provider."))] = None) -> None:
    import asyncio

    from mai_tui.core.providers import catalogue
    from mai_tui.core.providers.registry import Providers

    ctx = context()
    providers = Providers(ctx.settings, ctx.secrets)
    names = catalogue.configured(providers, provider)
    if not names:
        raise typer.Exit(_fail(_("No provider is configured: mai keys set PROVIDER")))
    listings = asyncio.run(catalogue.fetch(providers, names))
    for listing in listings:
        say(catalogue.status_line(listing))
    if any(listing.error is not None for listing in listings):
        raise typer.Exit(3)


def _fail(message: str) -> int:
    warn(message)
    return 1
