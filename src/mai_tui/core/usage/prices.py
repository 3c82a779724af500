"""Model prices, used only when a provider reports no cost (the ledger row is then marked
estimated). A small maintained seed table, refreshed from OpenRouter's `/models` pricing
and the other providers' model lists through the model catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from mai_tui.core.providers.events import Usage
from mai_tui.core.store.models import CatalogueEntry, ModelPrice
from mai_tui.core.store.types import to_money, utcnow

MILLION = Decimal(1_000_000)

_LITELLM = "LiteLLM 1.110.2 model_prices_and_context_window_backup.json + genai-prices 0.2.3, read 2026-11"
# (provider, model, valid from, input, cached input, cache write, output), USD per million tokens.
SEED: tuple[tuple[str, str, date, str, str | None, str | None, str, str], ...] = (
    ("openai", "gpt-4o-mini", date(2024, 7, 18), "0.15", "0.075", None, "0.60", _LITELLM),
    ("openai", "gpt-4o", date(2024, 10, 1), "2.50", "1.25", None, "10.00", _LITELLM),
    ("openai", "gpt-4.1", date(2025, 4, 14), "2.00", "0.50", None, "8.00", _LITELLM),
    ("openai", "gpt-4.1-mini", date(2025, 4, 14), "0.40", "0.10", None, "1.60", _LITELLM),
    ("anthropic", "claude-sonnet-4-5", date(2025, 9, 29), "3.00", "0.30", "3.75", "15.00", _LITELLM),
    ("anthropic", "claude-sonnet-4-6", date(2026, 3, 13), "3.00", "0.30", "3.75", "15.00", _LITELLM),
    ("anthropic", "claude-haiku-4-5", date(2025, 10, 15), "1.00", "0.10", "1.25", "5.00", _LITELLM),
    ("gemini", "gemini-2.0-flash", date(2025, 2, 5), "0.10", "0.025", None, "0.40", "genai-prices 0.2.3, 2026-11"),
    ("gemini", "gemini-2.5-flash", date(2025, 6, 17), "0.30", "0.03", None, "2.50", _LITELLM),
    ("gemini", "gemini-2.5-flash-lite", date(2025, 7, 22), "0.10", "0.01", None, "0.40", _LITELLM),
    ("openrouter", "deepseek/deepseek-chat", date(2025, 9, 29), "0.28", "0.028", "0", "0.42", _LITELLM),
)


@dataclass(frozen=True)
class Price:
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    cached_input_per_mtok: Decimal | None
    cache_write_per_mtok: Decimal | None
    source: str
    valid_from: date

    def cost(self, usage: Usage) -> Decimal:
        """USD for `usage`: cached reads and cache writes at their own prices where known."""
        cached = usage.cached_tokens if self.cached_input_per_mtok is not None else 0
        written = usage.cache_write_tokens if self.cache_write_per_mtok is not None else 0
        plain = max(usage.prompt_tokens - cached - written, 0)
        total = (
            plain * self.input_per_mtok
            + cached * (self.cached_input_per_mtok or 0)
            + written * (self.cache_write_per_mtok or 0)
            + usage.completion_tokens * self.output_per_mtok
        )
        return to_money(total / MILLION)

    def as_dict(self) -> dict[str, str | None]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "input_per_mtok": text(self.input_per_mtok),
            "output_per_mtok": text(self.output_per_mtok),
            "cached_input_per_mtok": text(self.cached_input_per_mtok),
            "cache_write_per_mtok": text(self.cache_write_per_mtok),
            "source": self.source,
            "valid_from": self.valid_from.isoformat(),
        }


def _price(row: ModelPrice) -> Price:
    return Price(
        row.input_per_mtok,
        row.output_per_mtok,
        row.cached_input_per_mtok,
        row.cache_write_per_mtok,
        row.source,
        row.valid_from,
    )


def ensure_seed(session: Session) -> int:
    """Add the seed rows that are missing; returns how many were added."""
    have = {(row.provider, row.model, row.valid_from) for row in session.exec(select(ModelPrice))}
    added = 0
    for provider, model, valid_from, input_, cached, write, output, source in SEED:
        if (provider, model, valid_from) in have:
            continue
        session.add(
            ModelPrice(
                provider=provider,
                model=model,
                valid_from=valid_from,
                input_per_mtok=Decimal(input_),
                output_per_mtok=Decimal(output),
                cached_input_per_mtok=None if cached is None else Decimal(cached),
                cache_write_per_mtok=None if write is None else Decimal(write),
                source=source,
            )
        )
        added += 1
    session.flush()
    return added


def price_on(session: Session, provider: str, model: str, day: date) -> Price | None:
    """The price of `provider`'s `model` in force on `day` (the latest row valid from then)."""
    query = (
        select(ModelPrice)
        .where(ModelPrice.provider == provider, ModelPrice.model == model, col(ModelPrice.valid_from) <= day)
        .order_by(col(ModelPrice.valid_from).desc())
        .limit(1)
    )
    row = session.exec(query).first()
    if row is None and session.exec(select(ModelPrice.id).limit(1)).first() is None:
        ensure_seed(session)  # a database that never ran `mai db init`
        row = session.exec(query).first()
    return _price(row) if row is not None else None


def refresh_from_catalogue(session: Session, today: date | None = None) -> int:
    """Record catalogue list prices that differ from the price in force, valid from today.

    The catalogue holds what each provider's model list said (OpenRouter's `/models` pricing
    included); returns how many prices changed.
    """
    today = today or utcnow().date()
    changed = 0
    entries = session.exec(
        select(CatalogueEntry).where(
            col(CatalogueEntry.input_price_per_mtok).is_not(None),
            col(CatalogueEntry.output_price_per_mtok).is_not(None),
        )
    ).all()
    for entry in entries:
        assert entry.input_price_per_mtok is not None
        assert entry.output_price_per_mtok is not None
        fresh = (
            entry.input_price_per_mtok,
            entry.output_price_per_mtok,
            entry.cache_read_price_per_mtok,
            entry.cache_write_price_per_mtok,
        )
        if fresh[0] < 0 or fresh[1] < 0:  # OpenRouter's "-1": a router whose price varies
            continue
        current = price_on(session, entry.provider, entry.model, today)
        if (
            current is not None
            and (
                current.input_per_mtok,
                current.output_per_mtok,
                current.cached_input_per_mtok,
                current.cache_write_per_mtok,
            )
            == fresh
        ):
            continue
        source = f"{entry.provider} model list, {entry.fetched_at.date().isoformat()}"
        row = session.exec(
            select(ModelPrice).where(
                ModelPrice.provider == entry.provider, ModelPrice.model == entry.model, ModelPrice.valid_from == today
            )
        ).first()
        if row is None:
            row = ModelPrice(
                provider=entry.provider,
                model=entry.model,
                valid_from=today,
                input_per_mtok=fresh[0],
                output_per_mtok=fresh[1],
                source=source,
            )
        row.input_per_mtok, row.output_per_mtok, row.cached_input_per_mtok, row.cache_write_per_mtok = fresh
        row.source = source
        row.updated_at = utcnow()
        session.add(row)
        changed += 1
    session.flush()
    return changed
