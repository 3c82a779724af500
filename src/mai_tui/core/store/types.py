"""Column types that keep money exact and time in UTC on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored exactly: NUMERIC(p, s) on PostgreSQL/MySQL, text on SQLite.

    SQLite has no decimal type (NUMERIC there is a float), so the value is kept as its
    decimal string, which round-trips to the same `Decimal`.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 20, scale: int = 10) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        # Providers send float artefacts such as 0.00020999999999999998 (JavaScript doubles);
        # digits past the column's scale (1e-10 USD for money) are rounded half-to-even, and
        # the provider's raw usage object keeps the original.
        value = Decimal(value).quantize(Decimal(1).scaleb(-self.scale), rounding=ROUND_HALF_EVEN)
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return tidy(value if isinstance(value, Decimal) else Decimal(str(value)))


def tidy(value: Decimal) -> Decimal:
    """The same number without trailing zeros or exponent: 2.0000 -> 2, 250.50 -> 250.5.

    PostgreSQL and MySQL return NUMERIC padded to its scale, SQLite returns what was
    stored; tidying makes every database give the same `Decimal`.
    """
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored as naive UTC on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Now, in UTC, with microseconds dropped (MySQL DATETIME keeps whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


MONEY_PLACES = 10  # money is exact to 1e-10 USD everywhere
_MONEY_UNIT = Decimal(1).scaleb(-MONEY_PLACES)


def to_money(value: Decimal | int | str) -> Decimal:
    """`value` rounded half-to-even to the ledger's 1e-10 USD (written without trailing zeros)."""
    return tidy(Decimal(value).quantize(_MONEY_UNIT, rounding=ROUND_HALF_EVEN))


class Money(TypeDecorator[Decimal]):
    """USD stored as a whole number of 1e-10 dollars (BIGINT) on every database.

    Integers add up exactly in SQL everywhere (SQLite included, where NUMERIC is a float),
    so ledger sums and rollup increments run in the database; code only ever sees `Decimal`.
    The range is ±922 million dollars.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return int(to_money(value).scaleb(MONEY_PLACES))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return tidy(Decimal(int(value)).scaleb(-MONEY_PLACES))

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        return self  # comparisons and arithmetic with Decimal literals bind as money units too
