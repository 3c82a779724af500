"""Conversations: the message tree, sending, streaming, stopping (see DESIGN.md)."""
