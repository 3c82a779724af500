"""`mai db init|upgrade`."""

from __future__ import annotations

from typing import Annotated

import typer

from mai_tui.cli.output import context, say, signed_in
from mai_tui.i18n import _

app = typer.Typer(help=_("Create and upgrade the database."), no_args_is_help=True)


@app.command("init", help=_("Create the database, the 'personal' organization and you (admin if first)."))
def init(
    sample: Annotated[bool, typer.Option("--sample", help=_("Add sample organizations and users."))] = False,
) -> None:
    from mai_tui.core.sample import initialize

    with signed_in() as (_ctx, session, actor):
        report = initialize(session, actor, sample=sample)
        say(_("You are '{name}' ({role}).").format(name=actor.name, role=actor.role))
    created = report.created_orgs + report.created_users
    if created:
        say(_("Created: {names}.").format(names=", ".join(created)))
    else:
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
