"""Money, dates and plural forms in the active language (the conftest fixture restores English)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mai_tui.core import formats
from mai_tui.i18n import current_language, ngettext, set_language

DAY = dt.date(2025, 6, 15)
AT = dt.datetime(2025, 6, 15, 9, 0, tzinfo=dt.UTC)
BERLIN = ZoneInfo("Europe/Berlin")
COST = Decimal("1234.5")
TINY = Decimal("0.00002415")


def test_english_keeps_the_apps_own_money_and_dates() -> None:
    assert current_language() == "en"
    assert formats.money(TINY) == "$0.00002415"  # every significant digit of a tiny LLM cost
    assert formats.money(Decimal("1.23")) == "$1.23"
    assert formats.money(Decimal("1.23"), places=4) == "$1.2300"
    assert formats.money(COST, places=2) == "$1,234.50"
    assert formats.money(Decimal("-0.5")) == "-$0.50"
    assert formats.number(Decimal("1234.5"), places=2) == "1,234.50"
    assert formats.date(DAY) == "2025-06-15"
    assert formats.datetime_(AT, BERLIN) == "2025-06-15 11:00 CEST"


@pytest.mark.parametrize(
    ("language", "day", "at", "cost", "tiny"),
    [
        ("de", "15.06.2025", "15.06.25, 11:00 CEST", "1.234,50\xa0$", "0,00002415\xa0$"),
        ("ja", "2025/06/15", "2025/06/15 11:00 CEST", "$1,234.50", "$0.00002415"),
        (
            "ar",
            "15\u200f/06\u200f/2025",
            "15\u200f/6\u200f/2025، 11:00 ص CEST",
            "\u200f1,234.50\xa0US$",
            "\u200f0.00002415\xa0US$",
        ),
    ],
)
def test_a_date_and_a_cost_in_the_languages_conventions(language: str, day: str, at: str, cost: str, tiny: str) -> None:
    set_language(language)
    assert current_language() == language
    assert formats.date(DAY) == day
    assert formats.datetime_(AT, BERLIN) == at
    assert formats.money(COST, places=2) == cost
    assert formats.money(TINY) == tiny
    set_language(None)
    assert (formats.date(DAY), formats.money(COST, places=2)) != (day, cost)


def test_an_unknown_language_formats_as_english() -> None:
    set_language("xx")
    assert formats.locale().language == "en"
    assert formats.money(TINY) == "$0.00002415"


SINGULAR, PLURAL = "Cancelled: {n} file was not added.", "Cancelled: {n} files were not added."


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        (
            "pl",
            {
                0: "Anulowano: 0 plików nie zostało dodanych.",
                1: "Anulowano: 1 plik nie został dodany.",
                2: "Anulowano: 2 pliki nie zostały dodane.",
                5: "Anulowano: 5 plików nie zostało dodanych.",
                21: "Anulowano: 21 plików nie zostało dodanych.",
            },
        ),
        (
            "ru",
            {
                0: "Отменено: 0 файлов не добавлено.",
                1: "Отменено: 1 файл не добавлен.",
                2: "Отменено: 2 файла не добавлены.",
                5: "Отменено: 5 файлов не добавлено.",
                21: "Отменено: 21 файл не добавлен.",
            },
        ),
    ],
)
def test_plural_forms(language: str, forms: dict[int, str]) -> None:
    set_language(language)
    for n, expected in forms.items():
        assert ngettext(SINGULAR, PLURAL, n).format(n=n) == expected
