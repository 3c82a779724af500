"""Money, numbers and dates for reading, in the active language's conventions (Babel/CLDR).

The language is the one `mai_tui.i18n` translates into. Money keeps every significant digit
by default: an LLM call can cost $0.00002415, and rounding that to cents would show $0.00.
English keeps the app's own style for dates (ISO: 2025-06-15 11:00 CEST); other languages
get their CLDR medium date and short date-time. Machine output (CLI JSON, CSV) does not use
this module: it stays decimal strings and ISO dates.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, format_currency, format_decimal, parse_pattern

from mai_tui.i18n import current_language

ISO_LANGUAGES = {"en"}  # languages that keep the app's ISO dates


@lru_cache(maxsize=32)
def _parse(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def locale() -> Locale:
    """The Babel locale of the active language ("en" when it is unknown to Babel)."""
    return _parse(current_language())


def _fixed(pattern: NumberPattern, places: int) -> NumberPattern:
    """`pattern` showing exactly `places` fraction digits."""
    fixed = copy.copy(pattern)
    fixed.frac_prec = (places, places)
    return fixed


def money(value: Decimal, currency: str = "USD", *, places: int | None = None) -> str:
    """`value` in `currency` with the locale's symbol, placement and separators.

    places=None keeps every significant digit (at least the locale's usual two):
    en $0.00002415, $1.23; de 0,00002415 $. A number fixes the fraction digits instead.
    """
    here = locale()
    if places is None:
        return format_currency(value, currency, locale=here, currency_digits=False, decimal_quantization=False)
    pattern = _fixed(parse_pattern(here.currency_formats["standard"]), places)
    return format_currency(value, currency, format=pattern, locale=here, currency_digits=False)


def number(value: int | float | Decimal, *, places: int | None = None) -> str:
    """`value` with the locale's grouping and decimal sign; places fixes the fraction digits."""
    here = locale()
    if places is None:
        return format_decimal(value, locale=here, decimal_quantization=False)
    pattern = _fixed(parse_pattern(here.decimal_formats[None]), places)
    return format_decimal(value, format=pattern, locale=here)


def date(day: dt.date) -> str:
    """A calendar day: 2025-06-15 in English, 15.06.2025 in German, 2025/06/15 in Japanese."""
    here = locale()
    if here.language in ISO_LANGUAGES:
        return day.isoformat()
    return format_date(day, "medium", locale=here)


def datetime_(at: dt.datetime, tz: dt.tzinfo, *, zone: bool = True) -> str:
    """`at` on the clock of `tz` (short date and time), with the zone's abbreviation when `zone`."""
    local = at.astimezone(tz)
    here = locale()
    if here.language in ISO_LANGUAGES:
        text = local.strftime("%Y-%m-%d %H:%M")
    else:
        text = format_datetime(local, "short", tzinfo=tz, locale=here)
    return f"{text} {local.strftime('%Z')}" if zone else text
