"""Printing for the command line: tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

    from mai_tui.core.context import AppContext
    from mai_tui.core.store.models import User


def _plain(value: Any) -> Any:
    """Money as a decimal string, times as ISO 8601 with offset (the CLI contract)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_plain, ensure_ascii=False, indent=2) + "\n")


def cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, Decimal | datetime):
        return str(_plain(value))
    return str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")  # wrap long values, never cut them off
    for row in rows:
        table.add_row(*(cell(v) for v in row))
    # A terminal gets its own width; a pipe or file gets room for every value on one line.
    width = None if sys.stdout.isatty() else 240
    Console(markup=False, emoji=False, width=width).print(table)


def say(message: str) -> None:
    """A line for the person at the terminal (stdout)."""
    sys.stdout.write(message + "\n")


def warn(message: str) -> None:
    sys.stderr.write(message + "\n")


def confirm(question: str, yes: bool) -> None:
    """Ask before something that cannot be undone; without a terminal, only `--yes` confirms."""
    if yes:
        return
    if not sys.stdin.isatty():
        from mai_tui.core.errors import InvalidInput
        from mai_tui.i18n import _

        raise InvalidInput(_("not a terminal: add --yes to confirm"))
    import typer

    typer.confirm(question, abort=True)


def context() -> AppContext:
    from mai_tui.core.context import load_context

    return load_context()


@contextmanager
def signed_in() -> Iterator[tuple[AppContext, Session, User]]:
    """The context, a committing session, and the current user (created on first sight)."""
    ctx = context()
    with ctx.session() as session:
        yield ctx, session, ctx.current_user(session)
