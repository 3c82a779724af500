"""The tables. Every change here needs a new Alembic migration in `migrations/versions/`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlalchemy.dialects import mysql
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


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"  # being written; a crash leaves it so, with everything shown so far
    CANCELLED = "cancelled"
    ERROR = "error"


def _long_text() -> Column[str]:
    return Column(Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=False)


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    )
    title: str = Field(max_length=200)
    model: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, sa_column=Column(Text().with_variant(mysql.LONGTEXT(), "mysql")))
    temperature: float | None = None
    max_tokens: int | None = None
    pinned: bool = False
    archived: bool = False
    folder: str | None = Field(default=None, max_length=200)
    current_leaf_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChatMessage(SQLModel, table=True):
    """One message of the tree; `parent_id` links it to the message it answers or follows."""

    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False)
    )
    parent_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=True)
    )
    role: str = Field(max_length=16)
    content: str = Field(default="", sa_column=_long_text())
    reasoning: str | None = Field(default=None, sa_column=Column(Text().with_variant(mysql.LONGTEXT(), "mysql")))
    status: str = Field(default=MessageStatus.COMPLETE.value, max_length=16)
    provider: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=200)
    generation_id: str | None = Field(default=None, max_length=200)
    finish_reason: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, sa_column=Column(Text))
    error_kind: str | None = Field(default=None, max_length=32)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: Decimal | None = Field(default=None, sa_type=ExactDecimal(20, 10))
    first_token_ms: int | None = None
    duration_ms: int | None = None
    citations: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CatalogueEntry(SQLModel, table=True):
    """A provider's model as last listed: context length and list prices (USD per million tokens)."""

    __tablename__ = "model_catalogue"

    id: str = Field(primary_key=True, max_length=255)  # provider/model
    provider: str = Field(max_length=100, index=True)
    model: str = Field(max_length=200)
    context_length: int | None = None
    input_price_per_mtok: Decimal | None = Field(default=None, sa_type=ExactDecimal(20, 10))
    output_price_per_mtok: Decimal | None = Field(default=None, sa_type=ExactDecimal(20, 10))
    cache_read_price_per_mtok: Decimal | None = Field(default=None, sa_type=ExactDecimal(20, 10))
    cache_write_price_per_mtok: Decimal | None = Field(default=None, sa_type=ExactDecimal(20, 10))
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
