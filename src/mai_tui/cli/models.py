"""`mai models list|test`."""

from __future__ import annotations

from typing import Annotated

import typer

from mai_tui.cli.output import context, print_json, print_table, say, warn
from mai_tui.i18n import _, ngettext

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
    from mai_tui.core.usage import prices

    ctx = context()
    providers = Providers(ctx.settings, ctx.secrets)
    names = [provider] if provider else [n for n in providers.names() if providers.is_configured(n)]
    for name in names:
        providers.get(name)  # unknown names fail here, before anything is fetched
    with ctx.session() as session:
        stale = [n for n in names if refresh or not catalogue.cached(session, n)]
    if stale:
        for listing in asyncio.run(catalogue.fetch(providers, stale)):
            if listing.error is not None:
                warn(_("{error} (showing the cached list)").format(error=listing.error))
            with ctx.session() as session:
                catalogue.store(session, listing)
        with ctx.session() as session:  # new list prices become dated rows of the price table
            prices.refresh_from_catalogue(session)
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
    names = [provider] if provider else [n for n in providers.names() if providers.is_configured(n)]
    if not names:
        raise typer.Exit(_fail(_("No provider is configured: mai keys set PROVIDER")))
    for name in names:
        providers.get(name)
    failed = False
    for listing in asyncio.run(catalogue.fetch(providers, names)):
        if listing.error is not None:
            failed = True
            say(_("✗ {error}").format(error=listing.error))
        else:
            count = len(listing.models)
            line = ngettext("✓ {provider}: {n} model in {ms} ms", "✓ {provider}: {n} models in {ms} ms", count)
            say(line.format(provider=listing.provider, n=count, ms=round(listing.seconds * 1000)))
    if failed:
        raise typer.Exit(3)


def _fail(message: str) -> int:
    warn(message)
    return 1
