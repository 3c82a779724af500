"""`mai export ID` and `mai import FILE`: conversations out as Markdown or JSON, and in from our
JSON, Open WebUI's chat export or ChatGPT's `conversations.json`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mai_tui.cli.output import print_json, say, signed_in, warn
from mai_tui.i18n import _, ngettext


class Format(StrEnum):  # the core's ExportFormat, without importing the database layer for --help
    MD = "md"
    JSON = "json"


EXPORT_HELP = _(
    "Export a conversation: md is the branch you see, readable anywhere; json keeps every branch and "
    "can be imported again. Printed to stdout unless -o gives a file (written whole or not at all)."
)


def export(
    conversation_id: Annotated[int, typer.Argument(metavar="ID", help=_("The conversation's number."))],
    fmt: Annotated[Format, typer.Option("--format", "-f", help=_("md or json."))] = Format.MD,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", metavar="FILE", help=_("Write to this file instead of stdout."))
    ] = None,
) -> None:
    from mai_tui.core.chat.transfer import ExportFormat, render, save_export

    kind = ExportFormat(fmt.value)
    with signed_in() as (_ctx, session, user):
        if output is None:
            text = render(session, conversation_id, kind, user=user)
        else:
            written = save_export(session, conversation_id, output, kind, user=user)
    if output is None:
        sys.stdout.write(text)
    else:
        say(_("Exported conversation {id} to {path}.").format(id=conversation_id, path=written))


IMPORT_HELP = _(
    "Import conversations from mai's JSON export, an Open WebUI chat export or ChatGPT's conversations.json "
    "(recognised by content). Branches, titles and times are kept. A bad file imports nothing."
)


def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE", help=_("The export file (JSON)."))],
    json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON: [{id, title, messages}]."))] = False,
) -> None:
    from mai_tui.core.chat.transfer import describe, import_file

    with signed_in() as (_ctx, session, user):
        ids = import_file(session, file, user, warn=lambda message: warn(_("Note: {note}").format(note=message)))
        imported = describe(session, ids)
    if json_out:
        print_json([{"id": item.id, "title": item.title, "messages": item.messages} for item in imported])
        return
    for item in imported:
        count = ngettext("{n} message", "{n} messages", item.messages).format(n=item.messages)
        say(_("{id}  {title}  ({count})").format(id=item.id, title=item.title, count=count))
    say(
        ngettext(
            "Imported {n} conversation from {file}.", "Imported {n} conversations from {file}.", len(imported)
        ).format(n=len(imported), file=file)
    )
