"""`mai db init|upgrade|clean-usage|reset`."""

from __future__ import annotations

from typing import Annotated

import typer

from mai_tui.cli.output import confirm, context, say, signed_in
from mai_tui.i18n import _

app = typer.Typer(help=_("Create and upgrade the database."), no_args_is_help=True)


@app.command("init", help=_("Create the database, the 'personal' organization and you (admin if first)."))
def init(
    sample: Annotated[
        bool, typer.Option("--sample", help=_("Add sample organizations, users and a month of their usage."))
    ] = False,
) -> None:
    from mai_tui.core.sample import initialize

    with signed_in() as (_ctx, session, actor):
        report = initialize(session, actor, sample=sample)
        say(_("You are '{name}' ({role}).").format(name=actor.name, role=actor.role))
    created = report.created_orgs + report.created_users
    if created:
        say(_("Created: {names}.").format(names=", ".join(created)))
    if report.sample_calls:
        say(_("Added {n} sample calls over the last 30 days.").format(n=report.sample_calls))
    if not created and not report.sample_calls:
        say(_("Nothing to create: the database was already initialized."))


@app.command("upgrade", help=_("Migrate the database to the newest schema."))
def upgrade() -> None:
    from mai_tui.core.store.engine import get_engine
    from mai_tui.core.store.migrate import head_revision
    from mai_tui.core.store.migrate import upgrade as run_upgrade

    ctx = context()
    changed = run_upgrade(get_engine(ctx.database_url))
    if changed:
        say(_("Database migrated to {revision}.").format(revision=head_revision()))
    else:
        say(_("Database already at {revision}.").format(revision=head_revision()))


Yes = Annotated[bool, typer.Option("--yes", help=_("Do not ask for confirmation."))]


def _removed(counts: dict[str, int]) -> None:
    for table, count in counts.items():
        say(_("{table}: {n} rows removed").format(table=table, n=count))


@app.command("clean-usage", help=_("Remove the usage ledger, rollups and sync state (admin); keeps the rest."))
def clean_usage(yes: Yes = False) -> None:
    from mai_tui.core.accounts import require_admin
    from mai_tui.core.usage.admin import clean_usage as clean
    from mai_tui.core.usage.admin import count_usage

    with signed_in() as (_ctx, session, actor):
        require_admin(actor)
        total = sum(count_usage(session).values())
    confirm(_("Remove {n} usage rows? Organizations, users, prices and config stay.").format(n=total), yes)
    with signed_in() as (_ctx, session, actor):
        _removed(clean(session, actor))


@app.command("reset", help=_("Empty the whole database (admin): every user, chat and usage row."))
def reset(yes: Yes = False) -> None:
    from mai_tui.core.accounts import require_admin
    from mai_tui.core.store.engine import get_engine
    from mai_tui.core.usage.admin import reset_everything

    with signed_in() as (ctx, _session, actor):
        require_admin(actor)
    confirm(_("Empty the whole database? This cannot be undone (keys and config stay)."), yes)
    _removed(reset_everything(get_engine(ctx.database_url), actor))
    say(_("The database is empty; the next command makes you its admin."))
