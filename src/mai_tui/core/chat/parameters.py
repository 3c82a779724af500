"""A conversation's system prompt and sampling parameters (no database imports: the TUI
builds these before the database layer has loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from mai_tui.core.errors import InvalidInput
from mai_tui.i18n import _


@dataclass(frozen=True)
class Parameters:
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


MAX_TOKENS_LIMIT = 2**31 - 1  # what an INTEGER column holds on every database


def check_max_tokens(value: int) -> None:
    if not 0 < value <= MAX_TOKENS_LIMIT:
        raise InvalidInput(_("max tokens must be a whole number from 1 to {limit}").format(limit=MAX_TOKENS_LIMIT))


def parse_parameters(temperature: str, max_tokens: str) -> tuple[float | None, int | None]:
    """Temperature (0–2) and max tokens (> 0) as typed; empty means the provider's default."""
    parsed_temperature: float | None = None
    parsed_max: int | None = None
    if temperature.strip():
        try:
            parsed_temperature = float(temperature)
        except ValueError:
            raise InvalidInput(_("temperature must be a number from 0 to 2")) from None
        if not 0 <= parsed_temperature <= 2:
            raise InvalidInput(_("temperature must be a number from 0 to 2"))
    if max_tokens.strip():
        try:
            parsed_max = int(max_tokens)
        except ValueError:
            raise InvalidInput(
                _("max tokens must be a whole number from 1 to {limit}").format(limit=MAX_TOKENS_LIMIT)
            ) from None
        check_max_tokens(parsed_max)
    return parsed_temperature, parsed_max
