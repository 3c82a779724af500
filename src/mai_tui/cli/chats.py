"""`mai chats list|show|search`: your conversations from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mai_tui.cli.output import context, print_json, print_table, say
from mai_tui.i18n import _

if TYPE_CHECKING:
    from datetime import tzinfo

    from mai_tui.core.chat.history import Listed, Query

app = typer.Typer(help=_("Your conversations: list, read and search them."), no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]
LIMIT = Annotated[int, typer.Option("--limit", "-n", min=1, help=_("At most this many."))]


def _print(listed: list[Listed], json_out: bool, empty: str, timezone: tzinfo) -> None:
    """A table with times in the org's timezone, or JSON (ISO 8601 with offset, UTC)."""
    if json_out:
        print_json([item.as_dict() for item in listed])
        return
    if not listed:
        say(empty)
        return
    print_table(
        [_("id"), _("title"), _("updated"), _("model"), _("messages"), _("cost $")],
        [
            (
                item.id,
                ("★ " if item.pinned else "") + item.title,
                item.updated_at.astimezone(timezone).strftime("%Y-%m-%d %H:%M"),
                item.model or "",
                item.messages,
                item.cost_usd,
            )
            for item in listed
        ],
    )


def _find(text: str | Query, limit: int) -> tuple[list[Listed], tzinfo]:
    """The user's conversations that match, and their org's timezone for showing times."""
    from zoneinfo import ZoneInfo

    from mai_tui.core.chat import history
    from mai_tui.core.usage.billing import payer

    ctx = context()
    with ctx.session(write=False) as session:
        user = ctx.current_user(session)
        return history.find(session, user, text, limit=limit), ZoneInfo(payer(session, user).timezone)


@app.command("list", help=_("Your conversations, most recent first (pinned first); archived ones with --archived."))
def list_chats(
    archived: Annotated[bool, typer.Option("--archived", help=_("Only archived conversations."))] = False,
    limit: LIMIT = 100,
    json_out: JSON = False,
) -> None:
    listed, timezone = _find("archived:true" if archived else "", limit)
    _print(listed, json_out, _("No conversations yet."), timezone)


@app.command(
    "search",
    help=_("Search titles and messages; filters: tag:NAME folder:NAME pinned:true|false archived:true|false."),
)
def search(
    text: Annotated[str, typer.Argument(help=_("Words to find, and filters."))],
    limit: LIMIT = 50,
    json_out: JSON = False,
) -> None:
    from mai_tui.core.chat import history

    listed, timezone = _find(history.parse_query(text, prefix=False), limit)  # typed in full: whole words
    _print(listed, json_out, _("Nothing found."), timezone)


@app.command("show", help=_("A conversation's current branch as Markdown (--json: the whole tree)."))
def show(
    conversation_id: Annotated[int, typer.Argument(metavar="ID", help=_("The conversation's id (mai chats list)."))],
    json_out: JSON = False,
) -> None:
    import sys

    from mai_tui.core.chat import transfer

    ctx = context()
    with ctx.session(write=False) as session:
        user = ctx.current_user(session)
        if json_out:
            print_json(transfer.export_json(session, conversation_id, user=user))
            return
        sys.stdout.write(transfer.export_markdown(session, conversation_id, user=user))
