"""Typed errors the shells (CLI, TUI) turn into one readable line and an exit code."""

from __future__ import annotations


class MaiError(Exception):
    """Base class: `str(error)` is a complete, translated, one-line message."""

    exit_code = 1


class ConfigError(MaiError):
    """The configuration file or an environment variable holds a bad value."""


class PermissionDenied(MaiError):
    """The current user's role does not allow this operation."""


class NotFound(MaiError):
    """A named user, organization or other object does not exist."""


class InvalidInput(MaiError):
    """A value given by the user is not acceptable."""


class SecretStoreError(MaiError):
    """A key could not be stored, read or deleted."""


class DatabaseError(MaiError):
    """The database cannot be reached or migrated."""
