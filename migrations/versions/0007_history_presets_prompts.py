"""Conversations you can find and reuse: full-text search over titles and messages, tags,
soft deletion (undo), presets ("workspace models") and the prompt library.

Search uses each database's own full-text engine: an FTS5 table kept by triggers on SQLite,
GIN indexes over stored `to_tsvector('simple', …)` columns on PostgreSQL (the first 100,000
characters of a message), FULLTEXT indexes on MySQL/MariaDB.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql")


# SQLite: one FTS5 row per conversation (rowid = its id) holding its title and the text of
# all its messages, kept by triggers. A common word then ranks at most one row per
# conversation instead of every message that holds it (5x faster over 200,000 messages).
# Rewriting a conversation's row costs time in proportion to its text, so the triggers skip
# what does not change the searchable text for good: the empty answer a turn starts with and
# every save while an answer streams (its last save, with the final status, indexes it).
# Bulk writes (import, purge) put a row in `chats_fts_pause` inside their transaction and
# rebuild each conversation they touched once at the end (`history.bulk_index`).
_BODY = "(SELECT group_concat(content, char(10)) FROM messages WHERE conversation_id = {row}.conversation_id)"
_ACTIVE = "NOT EXISTS (SELECT 1 FROM chats_fts_pause)"
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE chats_fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TABLE chats_fts_pause (id INTEGER PRIMARY KEY)",
    f"CREATE TRIGGER chats_fts_conversation_insert AFTER INSERT ON conversations WHEN {_ACTIVE} BEGIN "
    "INSERT INTO chats_fts(rowid, title, body) VALUES (new.id, new.title, ''); END",
    f"CREATE TRIGGER chats_fts_conversation_title AFTER UPDATE OF title ON conversations WHEN {_ACTIVE} BEGIN "
    "UPDATE chats_fts SET title = new.title WHERE rowid = new.id; END",
    f"CREATE TRIGGER chats_fts_conversation_delete AFTER DELETE ON conversations WHEN {_ACTIVE} BEGIN "
    "DELETE FROM chats_fts WHERE rowid = old.id; END",
    f"CREATE TRIGGER chats_fts_message_insert AFTER INSERT ON messages WHEN new.content <> '' AND {_ACTIVE} BEGIN "
    f"UPDATE chats_fts SET body = {_BODY.format(row='new')} WHERE rowid = new.conversation_id; END",
    "CREATE TRIGGER chats_fts_message_update AFTER UPDATE OF content, status ON messages "
    f"WHEN new.status <> 'streaming' AND {_ACTIVE} BEGIN "
    f"UPDATE chats_fts SET body = {_BODY.format(row='new')} WHERE rowid = new.conversation_id; END",
    f"CREATE TRIGGER chats_fts_message_delete AFTER DELETE ON messages WHEN {_ACTIVE} BEGIN "
    f"UPDATE chats_fts SET body = {_BODY.format(row='old')} WHERE rowid = old.conversation_id; END",
    "INSERT INTO chats_fts(rowid, title, body) SELECT c.id, c.title, "
    "(SELECT group_concat(content, char(10)) FROM messages WHERE conversation_id = c.id) FROM conversations c",
]
_SQLITE_FTS_DOWN = [
    "DROP TRIGGER IF EXISTS chats_fts_message_delete",
    "DROP TRIGGER IF EXISTS chats_fts_message_update",
    "DROP TRIGGER IF EXISTS chats_fts_message_insert",
    "DROP TRIGGER IF EXISTS chats_fts_conversation_delete",
    "DROP TRIGGER IF EXISTS chats_fts_conversation_title",
    "DROP TRIGGER IF EXISTS chats_fts_conversation_insert",
    "DROP TABLE IF EXISTS chats_fts_pause",
    "DROP TABLE IF EXISTS chats_fts",
]


def upgrade() -> None:
    op.create_table(
        "presets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("system_prompt", long_text(), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("max_tokens", sa.Integer(), nullable=True),
        sa.Column("collection", sa.String(100), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "prompts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("command", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", long_text(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "conversation_tags",
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(100), primary_key=True),
    )
    op.create_index("ix_conversation_tags_tag", "conversation_tags", ["tag"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))
        # no foreign key: SQLite would rebuild the whole table for one; deleting a preset clears it
        batch.add_column(sa.Column("preset_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("collection", sa.String(100), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        # A stored tsvector per row (`search`, which the models leave out: inserts never name
        # it), so matching and scoring read it instead of parsing the text again per row. A
        # tsvector holds at most 1 MB of words: only the first 100,000 characters of a message
        # are indexed (at most 400 KB of UTF-8); words past them are not searchable here.
        for table, column in (("messages", "content"), ("conversations", "title")):
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN search tsvector "
                f"GENERATED ALWAYS AS (to_tsvector('simple', left({column}, 100000))) STORED"
            )
            op.execute(f"CREATE INDEX ix_{table}_fts ON {table} USING GIN (search)")
    elif dialect == "mysql":
        op.execute("CREATE FULLTEXT INDEX ix_messages_fts ON messages (content)")
        op.execute("CREATE FULLTEXT INDEX ix_conversations_fts ON conversations (title)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_FTS_DOWN:
            op.execute(statement)
    else:
        op.drop_index("ix_messages_fts", table_name="messages")
        op.drop_index("ix_conversations_fts", table_name="conversations")
        if dialect == "postgresql":
            op.drop_column("messages", "search")
            op.drop_column("conversations", "search")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("collection")
        batch.drop_column("preset_id")
        batch.drop_column("deleted_at")
    op.drop_index("ix_conversation_tags_tag", table_name="conversation_tags")
    op.drop_table("conversation_tags")
    op.drop_table("prompts")
    op.drop_table("presets")
