"""The model catalogue: listed from each provider, kept in the database with the fetch time,
so context lengths and list prices are known offline."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from mai_tui.core.providers.base import ModelInfo
from mai_tui.core.providers.errors import ProviderError
from mai_tui.core.providers.registry import Providers
from mai_tui.core.store.models import CatalogueEntry
from mai_tui.core.store.types import utcnow


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
