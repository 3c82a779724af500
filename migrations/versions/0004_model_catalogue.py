"""The model catalogue: each provider's models, context lengths and list prices, with the fetch time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def exact_decimal(precision: int, scale: int) -> sa.types.TypeEngine[Decimal]:
    return sa.Numeric(precision, scale).with_variant(sa.String(48), "sqlite")


def upgrade() -> None:
    op.create_table(
        "model_catalogue",
        sa.Column("id", sa.String(255), primary_key=True),  # provider/model
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("context_length", sa.Integer(), nullable=True),
        sa.Column("input_price_per_mtok", exact_decimal(20, 10), nullable=True),
        sa.Column("output_price_per_mtok", exact_decimal(20, 10), nullable=True),
        sa.Column("cache_read_price_per_mtok", exact_decimal(20, 10), nullable=True),
        sa.Column("cache_write_price_per_mtok", exact_decimal(20, 10), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_model_catalogue_provider", "model_catalogue", ["provider"])


def downgrade() -> None:
    op.drop_table("model_catalogue")
