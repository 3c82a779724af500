"""A user belongs to at most one organization: users.org_id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a foreign key in place, so the table is rebuilt (rows kept).
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("org_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_users_org_id", "organizations", ["org_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_users_org_id", ["org_id"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_org_id", type_="foreignkey")  # MySQL: before its index
        batch.drop_index("ix_users_org_id")
        batch.drop_column("org_id")
