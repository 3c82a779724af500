"""The `mai` entry point."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mai_tui import __version__
from mai_tui.cli import (
    ask,
    chats,
    config_cmd,
    db,
    kb,
    keys,
    models,
    orgs,
    presets,
    prompts,
    serve,
    transfer,
    usage,
    users,
    voice,
)
from mai_tui.i18n import _

app = typer.Typer(
    name="mai",
    help=_("mAI for the terminal: chat with any provider, ask your documents, see every cent."),
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(keys.app, name="keys")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(orgs.app, name="orgs")
app.add_typer(models.app, name="models")
app.add_typer(presets.app, name="presets")
app.add_typer(usage.app, name="usage")
app.add_typer(voice.app, name="voice")
app.add_typer(kb.app, name="kb")
app.add_typer(chats.app, name="chats")
app.add_typer(prompts.app, name="prompts")
app.command("ask", help=_("Ask one question; the answer streams to stdout and is saved."))(ask.ask)
app.command("export", help=transfer.EXPORT_HELP)(transfer.export)
app.command("import", help=transfer.IMPORT_HELP)(transfer.import_)
app.command("serve", help=_("Open the app in web browsers; loopback only unless --host says so."))(serve.serve)


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"mai {__version__}\n")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help=_("Print the version and exit."))
    ] = False,
) -> None:
    if ctx.invoked_subcommand is None:
        from mai_tui.cli import launch_tui

        launch_tui()


@app.command("doctor", help=_("Check the database, keys, folders, audio and offline models."))
def doctor(json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    from mai_tui.cli.output import context, print_json, print_table
    from mai_tui.core.doctor import healthy, run_checks

    checks = run_checks(context())
    if json_out:
        print_json({"healthy": healthy(checks), "checks": [c.as_dict() for c in checks]})
    else:
        print_table(
            [_("area"), _("check"), _("status"), _("detail")],
            [(c.area, c.name, c.status.value, c.detail) for c in checks],
        )
    if not healthy(checks):
        raise typer.Exit(1)
