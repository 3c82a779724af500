"""The usage ledger, its daily rollups, model prices, the OpenRouter sync's state, and the
organizations' exchange rate, request limit and own-key hash.

Money in the ledger tables is a BIGINT count of 1e-10 USD (see `Money`), so sums are exact in SQL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def exact_decimal(precision: int, scale: int) -> sa.types.TypeEngine[Decimal]:
    return sa.Numeric(precision, scale).with_variant(sa.String(48), "sqlite")


def money(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def tokens(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("exchange_rate", exact_decimal(20, 10), nullable=False, server_default="1"))
        batch.add_column(sa.Column("requests_per_minute", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("openrouter_key_hash", sa.String(64), nullable=True))

    op.create_table(
        "usage_ledger",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("generation_id", sa.String(200), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cached_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unsplit_tokens", sa.Integer(), nullable=False, server_default="0"),
        money("raw_cost_usd"),
        sa.Column("markup_rate", exact_decimal(10, 4), nullable=False),
        money("billed_cost_usd"),
        sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
        sa.Column("price_snapshot", sa.Text(), nullable=True),
        sa.Column("cost_source", sa.String(32), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("provider", "generation_id", name="uq_usage_ledger_generation"),
    )
    op.create_index("ix_usage_ledger_org_day", "usage_ledger", ["org_id", "day"])
    op.create_index("ix_usage_ledger_org_created", "usage_ledger", ["org_id", "created_at"])
    op.create_index("ix_usage_ledger_pending", "usage_ledger", ["pending"])

    op.create_table(
        "usage_daily",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False, server_default="0"),
        tokens("prompt_tokens"),
        tokens("completion_tokens"),
        tokens("cached_tokens"),
        tokens("cache_write_tokens"),
        tokens("reasoning_tokens"),
        tokens("unsplit_tokens"),
        money("raw_cost_usd"),
        money("billed_cost_usd"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("org_id", "day", "user_id", "model", name="uq_usage_daily_key"),
    )

    op.create_table(
        "model_prices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("input_per_mtok", exact_decimal(20, 10), nullable=False),
        sa.Column("output_per_mtok", exact_decimal(20, 10), nullable=False),
        sa.Column("cached_input_per_mtok", exact_decimal(20, 10), nullable=True),
        sa.Column("cache_write_per_mtok", exact_decimal(20, 10), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("provider", "model", "valid_from", name="uq_model_prices_key"),
    )

    op.create_table(
        "usage_sync_status",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )

    op.create_table(
        "usage_closed_days",
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organizations.id"), primary_key=True),
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        money("activity_usd"),
        money("ledger_usd"),
        money("difference_usd"),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
    )

    op.create_table(
        "usage_key_state",
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organizations.id"), primary_key=True),
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("baseline_usd", sa.BigInteger(), nullable=True),
        money("last_usage_usd"),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("usage_key_state", "usage_closed_days", "usage_sync_status", "model_prices", "usage_daily"):
        op.drop_table(table)
    op.drop_table("usage_ledger")  # its indexes go with it
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("openrouter_key_hash")
        batch.drop_column("requests_per_minute")
        batch.drop_column("exchange_rate")
