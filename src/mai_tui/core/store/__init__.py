"""The relational store: SQLModel tables, the engine, and migrations."""
