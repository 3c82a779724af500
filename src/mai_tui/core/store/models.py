"""The tables. Every change here needs a new Alembic migration in `migrations/versions/`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from mai_tui.core.store.types import ExactDecimal, UTCDateTime, utcnow

DEFAULT_MARKUP = Decimal("1.3")


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"
    PENDING = "pending"


class Organization(SQLModel, table=True):
    """A client organization: who pays, at which markup, in which timezone."""

    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    markup_rate: Decimal = Field(default=DEFAULT_MARKUP, sa_type=ExactDecimal(10, 4))
    monthly_limit_usd: Decimal | None = Field(default=None, sa_type=ExactDecimal(20, 10))
    currency: str = Field(default="USD", max_length=3)
    timezone: str = Field(default="UTC", max_length=64)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    """A local user. A user belongs to at most one organization (`org_id`)."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=150, unique=True)
    role: str = Field(default=Role.USER.value, max_length=16)
    org_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("organizations.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
