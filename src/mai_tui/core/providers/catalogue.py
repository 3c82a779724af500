"""The model catalogue: listed from each provider, kept in the database with the fetch time,
so context lengths and list prices are known offline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, delete, select

from mai_tui.core.providers.base import ModelInfo
from mai_tui.core.providers.errors import ProviderError
from mai_tui.core.providers.registry import Providers
from mai_tui.core.store.models import CatalogueEntry
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext


@dataclass(frozen=True)
class Listing:
    provider: str
    models: list[ModelInfo]
    error: ProviderError | None
    seconds: float


async def _list(providers: Providers, name: str) -> Listing:
    started = time.monotonic()
    try:
        models = await providers.get(name).list_models()
    except ProviderError as error:
        return Listing(name, [], error, time.monotonic() - started)
    return Listing(name, models, None, time.monotonic() - started)


async def fetch(providers: Providers, names: list[str]) -> list[Listing]:
    """List the models of several providers at once; a failing provider does not stop the others."""
    try:
        return list(await asyncio.gather(*(_list(providers, name) for name in names)))
    finally:
        await providers.aclose()


def configured(providers: Providers, only: str | None = None) -> list[str]:
    """The providers to list: `only`, or every provider that has what it needs to be called.

    An unknown name fails here (InvalidInput), before anything is fetched.
    """
    names = [only] if only else [name for name in providers.names() if providers.is_configured(name)]
    for name in names:
        providers.get(name)
    return names


def status_line(listing: Listing) -> str:
    """`✓ openrouter: 302 models in 180 ms`, or `✗` and the provider's error in one line."""
    if listing.error is not None:
        return _("✗ {error}").format(error=listing.error)
    count = len(listing.models)
    line = ngettext("✓ {provider}: {n} model in {ms} ms", "✓ {provider}: {n} models in {ms} ms", count)
    return line.format(provider=listing.provider, n=count, ms=round(listing.seconds * 1000))


def save(context: AppContext, listings: list[Listing], *, only: Collection[str] | None = None) -> None:
    """Store the listings (of the providers in `only`, if given; a failed one keeps its cached
    list), then record new list prices as dated rows of the price table."""
    from mai_tui.core.usage import prices

    kept = [listing for listing in listings if listing.error is None and (only is None or listing.provider in only)]
    for listing in kept:
        with context.session() as session:
            store(session, listing)
    if kept:
        with context.session() as session:
            prices.refresh_from_catalogue(session)


def store(session: Session, listing: Listing) -> int:
    """Replace one provider's cached models with a fresh listing (kept as is on failure)."""
    if listing.error is not None:
        return 0
    session.exec(delete(CatalogueEntry).where(col(CatalogueEntry.provider) == listing.provider))
    fetched = utcnow()
    unique = {model.full_id: model for model in listing.models}
    for model in unique.values():
        session.add(
            CatalogueEntry(
                id=model.full_id,
                provider=model.provider,
                model=model.id,
                context_length=model.context_length,
                input_price_per_mtok=model.input_price_per_mtok,
                output_price_per_mtok=model.output_price_per_mtok,
                cache_read_price_per_mtok=model.cache_read_price_per_mtok,
                cache_write_price_per_mtok=model.cache_write_price_per_mtok,
                fetched_at=fetched,
            )
        )
    session.flush()
    return len(unique)


def cached(session: Session, provider: str | None = None) -> list[CatalogueEntry]:
    query = select(CatalogueEntry).order_by(col(CatalogueEntry.id))
    if provider is not None:
        query = query.where(col(CatalogueEntry.provider) == provider)
    return list(session.exec(query).all())


def context_length(session: Session, full_id: str) -> int | None:
    entry = session.get(CatalogueEntry, full_id)
    return entry.context_length if entry is not None else None
