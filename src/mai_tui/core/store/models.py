"""The tables. Every change here needs a new Alembic migration in `migrations/versions/`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlmodel import Field, SQLModel

from mai_tui.core.store.types import ExactDecimal, Money, UTCDateTime, utcnow

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
    # units of `currency` per USD, set by an admin (no online rates); costs are stored in USD
    exchange_rate: Decimal = Field(default=Decimal(1), sa_type=ExactDecimal(20, 10))
    requests_per_minute: int | None = None
    # sha256 of the org's own OpenRouter key (the key itself lives in the secret store)
    openrouter_key_hash: str | None = Field(default=None, max_length=64)


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


def _fk(table: str, ondelete: str | None = None, nullable: bool = True) -> Column[int]:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


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
    # deleted but restorable ("undo") until purged; lists and searches leave it out
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    preset_id: int | None = None  # the preset it was started from (no foreign key: see migration 0007)
    collection: str | None = Field(default=None, max_length=100)  # searched for every prompt without `#`


class ConversationTag(SQLModel, table=True):
    __tablename__ = "conversation_tags"

    conversation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(primary_key=True, max_length=100, index=True)


class Preset(SQLModel, table=True):
    """A "workspace model": a base model with its system prompt, parameters and documents."""

    __tablename__ = "presets"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    model: str = Field(max_length=200)  # provider/model
    system_prompt: str | None = Field(default=None, sa_column=Column(Text().with_variant(mysql.LONGTEXT(), "mysql")))
    temperature: float | None = None
    max_tokens: int | None = None
    collection: str | None = Field(default=None, max_length=100)  # a knowledge collection's name
    user_id: int | None = Field(default=None, sa_column=_fk("users", "SET NULL"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SavedPrompt(SQLModel, table=True):
    """A prompt of the library, invoked as `/command`; `{{name}}` marks a value asked before sending."""

    __tablename__ = "prompts"

    id: int | None = Field(default=None, primary_key=True)
    command: str = Field(max_length=64, unique=True)  # without the slash
    title: str = Field(max_length=200)
    content: str = Field(default="", sa_column=_long_text())
    user_id: int | None = Field(default=None, sa_column=_fk("users", "SET NULL"))
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


class CostSource(StrEnum):
    PROVIDER = "provider"  # the provider reported the cost with the answer
    PRICE_TABLE = "price_table"  # estimated from the price table (the row is marked estimated)
    OPENROUTER_GENERATION = "openrouter_generation"  # completed later from GET /generation
    MANUAL = "manual"  # entered by an admin
    OPENROUTER_RECONCILE = "openrouter_reconcile"  # spend OpenRouter counted that the ledger had not


class CallKind(StrEnum):
    CHAT = "chat"
    ASK = "ask"
    REGENERATE = "regenerate"
    CONTINUE = "continue"
    COMPARE = "compare"
    RAG = "rag"
    TITLE = "title"
    MANUAL = "manual"
    RECONCILE = "reconcile"


class LedgerEntry(SQLModel, table=True):
    """One model call (or one manual or reconciliation entry). Money in USD, exact."""

    __tablename__ = "usage_ledger"
    __table_args__ = (
        UniqueConstraint("provider", "generation_id", name="uq_usage_ledger_generation"),
        Index("ix_usage_ledger_org_day", "org_id", "day"),
        Index("ix_usage_ledger_org_created", "org_id", "created_at"),
        Index("ix_usage_ledger_pending", "pending"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # when the call started
    day: date = Field(sa_column=Column(Date, nullable=False))  # created_at's date in the org's timezone
    org_id: int = Field(sa_column=_fk("organizations", nullable=False))
    user_id: int | None = Field(default=None, sa_column=_fk("users", "SET NULL"))
    conversation_id: int | None = Field(default=None, sa_column=_fk("conversations", "SET NULL"))
    message_id: int | None = Field(default=None, sa_column=_fk("messages", "SET NULL"))
    kind: str = Field(max_length=16)
    provider: str = Field(max_length=100)
    model: str = Field(max_length=200)  # provider/model
    generation_id: str | None = Field(default=None, max_length=200)
    key_hash: str | None = Field(default=None, max_length=64)  # the org's own OpenRouter key, when used
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    unsplit_tokens: int = 0  # known only as a total (a manual record without an input/output split)
    raw_cost_usd: Decimal = Field(default=Decimal(0), sa_type=Money)
    markup_rate: Decimal = Field(default=DEFAULT_MARKUP, sa_type=ExactDecimal(10, 4))
    billed_cost_usd: Decimal = Field(default=Decimal(0), sa_type=Money)
    currency: str = Field(default="USD", max_length=3)
    price_snapshot: str | None = Field(default=None, sa_column=Column(Text))  # JSON of the prices used
    cost_source: str = Field(max_length=32)
    estimated: bool = False
    pending: bool = False  # waiting for OpenRouter's record of this generation
    note: str | None = Field(default=None, sa_column=Column(Text))


class DailyUsage(SQLModel, table=True):
    """Ledger sums per org × day (org's timezone) × user × model, kept in step with every write.

    `user_id` 0 stands for "no user" (reconciliation rows), so the unique key has no NULLs.
    """

    __tablename__ = "usage_daily"
    __table_args__ = (UniqueConstraint("org_id", "day", "user_id", "model", name="uq_usage_daily_key"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=_fk("organizations", nullable=False))
    day: date = Field(sa_column=Column(Date, nullable=False))
    user_id: int = 0
    model: str = Field(max_length=200)
    requests: int = 0
    prompt_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    completion_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    cached_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    cache_write_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    reasoning_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    unsplit_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    raw_cost_usd: Decimal = Field(default=Decimal(0), sa_type=Money)
    billed_cost_usd: Decimal = Field(default=Decimal(0), sa_type=Money)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ModelPrice(SQLModel, table=True):
    """A list price (USD per million tokens) valid from a date, with where it came from."""

    __tablename__ = "model_prices"
    __table_args__ = (UniqueConstraint("provider", "model", "valid_from", name="uq_model_prices_key"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=100)
    model: str = Field(max_length=200)  # the provider's model id
    valid_from: date = Field(sa_column=Column(Date, nullable=False))
    input_per_mtok: Decimal = Field(sa_type=ExactDecimal(20, 10))
    output_per_mtok: Decimal = Field(sa_type=ExactDecimal(20, 10))
    cached_input_per_mtok: Decimal | None = Field(default=None, sa_type=ExactDecimal(20, 10))
    cache_write_per_mtok: Decimal | None = Field(default=None, sa_type=ExactDecimal(20, 10))
    source: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SyncStatus(SQLModel, table=True):
    """The OpenRouter sync's lease (one worker at a time) and what its last run did."""

    __tablename__ = "usage_sync_status"

    name: str = Field(primary_key=True, max_length=64)
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_result: str | None = Field(default=None, sa_column=Column(Text))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClosedDay(SQLModel, table=True):
    """A finished UTC day of an org's OpenRouter key, checked against `/activity` and closed."""

    __tablename__ = "usage_closed_days"

    org_id: int = Field(sa_column=Column(Integer, ForeignKey("organizations.id"), primary_key=True))
    key_hash: str = Field(primary_key=True, max_length=64)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    activity_usd: Decimal = Field(sa_type=Money)
    ledger_usd: Decimal = Field(sa_type=Money)
    difference_usd: Decimal = Field(sa_type=Money)
    closed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class KeyState(SQLModel, table=True):
    """What the sync knows of an org's own OpenRouter key: what it had spent when first seen
    (not billed: it predates this app's use of the key) and the counter it read last."""

    __tablename__ = "usage_key_state"

    org_id: int = Field(sa_column=Column(Integer, ForeignKey("organizations.id"), primary_key=True))
    key_hash: str = Field(primary_key=True, max_length=64)
    baseline_usd: Decimal | None = Field(default=None, sa_type=Money)  # set one cycle after first sight
    last_usage_usd: Decimal = Field(sa_type=Money)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DocumentStatus(StrEnum):
    INDEXING = "indexing"  # being read and embedded (a crash leaves it so: the next add redoes it)
    INDEXED = "indexed"
    FAILED = "failed"  # `problem` and `error` say why


class KnowledgeCollection(SQLModel, table=True):
    """A named set of documents searched together. Its chunks live in LanceDB (`store_name`)."""

    __tablename__ = "kb_collections"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    description: str | None = Field(default=None, sa_column=Column(Text))
    embedder: str = Field(max_length=200)  # changing it means re-indexing every document
    chunk_size: int
    chunk_overlap: int
    owner_id: int | None = Field(default=None, sa_column=_fk("users", "SET NULL"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def store_name(self) -> str:
        return f"collection_{self.id}"


class KnowledgeDocument(SQLModel, table=True):
    """A file in a collection: what it was when indexed, or why it could not be."""

    __tablename__ = "kb_documents"
    __table_args__ = (UniqueConstraint("collection_id", "path_hash", name="uq_kb_documents_path"),)

    id: int | None = Field(default=None, primary_key=True)
    collection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("kb_collections.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    path: str = Field(sa_column=Column(Text, nullable=False))  # absolute, as added
    path_hash: str = Field(max_length=64)  # sha256 of `path` (a unique key MySQL can index)
    name: str = Field(max_length=255)  # the file's name, for display and `#file`
    kind: str | None = Field(default=None, max_length=16)
    content_hash: str | None = Field(default=None, max_length=64)  # sha256 of the bytes indexed
    # The version tag of the chunks searches trust (new for every indexing attempt); None: none yet.
    indexed_version: str | None = Field(default=None, max_length=64)
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    pages: int = 0
    characters: int = 0
    chunks: int = 0
    status: str = Field(default=DocumentStatus.INDEXING.value, max_length=16)
    problem: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, sa_column=Column(Text))
    low_quality: bool = False
    warnings: str | None = Field(default=None, sa_column=Column(Text))  # one per line
    embedder: str | None = Field(default=None, max_length=200)  # the embedder of its chunks
    seconds: float | None = None  # how long indexing took
    indexed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
