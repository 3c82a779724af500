"""`mai users add|list|role`."""

from __future__ import annotations

from typing import Annotated

import typer

from mai_tui.cli.output import print_json, print_table, say, signed_in
from mai_tui.i18n import _

app = typer.Typer(help=_("Local users and their roles."), no_args_is_help=True)


@app.command("add", help=_("Add a user (admin only)."))
def add(
    name: str,
    role: Annotated[str, typer.Option("--role", help=_("admin, user or pending"))] = "user",
    org: Annotated[str | None, typer.Option("--org", help=_("The organization the user belongs to."))] = None,
) -> None:
    from mai_tui.core.accounts import add_user

    with signed_in() as (_ctx, session, actor):
        user = add_user(session, actor, name, role, org)
    say(_("Added user '{name}' ({role}).").format(name=user.name, role=user.role))


@app.command("list", help=_("List users."))
def list_users(json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    from mai_tui.core.accounts import list_users as users

    with signed_in() as (_ctx, session, _actor):
        rows = [{"name": u.name, "role": u.role, "org": org, "created_at": u.created_at} for u, org in users(session)]
    if json_out:
        print_json(rows)
        return
    print_table([_("name"), _("role"), _("org"), _("created")], [list(r.values()) for r in rows])


@app.command("role", help=_("Change a user's role (admin only)."))
def role(name: str, new_role: Annotated[str, typer.Argument(metavar="ROLE", help=_("admin, user or pending"))]) -> None:
    from mai_tui.core.accounts import set_role

    with signed_in() as (_ctx, session, actor):
        user = set_role(session, actor, name, new_role)
    say(_("'{name}' is now {role}.").format(name=user.name, role=user.role))
