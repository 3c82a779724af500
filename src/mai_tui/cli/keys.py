"""`mai keys set|list|delete`: API keys in the OS keyring (or the private key file)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mai_tui.cli.output import print_json, print_table, say, signed_in, warn
from mai_tui.i18n import _

app = typer.Typer(help=_("Store, list and delete API keys."), no_args_is_help=True)

ProviderArg = Annotated[
    str,
    typer.Argument(help=_("openai, anthropic, gemini, openrouter, openrouter-management, or a custom endpoint's NAME")),
]
OrgOption = Annotated[str | None, typer.Option("--org", help=_("Store this organization's own OpenRouter key."))]


def _read_key() -> str:
    """From a no-echo prompt at a terminal, else from standard input; never from argv."""
    if sys.stdin.isatty():
        return str(typer.prompt(_("Key"), hide_input=True))
    return sys.stdin.read()


@app.command("set", help=_("Store a key (typed at a hidden prompt, or piped on stdin)."))
def set_key(provider: ProviderArg, org: OrgOption = None) -> None:
    from mai_tui.core.secrets import Source, secret_name
    from mai_tui.core.usage.orgs import set_org_key

    with signed_in() as (ctx, session, actor):
        store = ctx.secrets
        store.check_name(provider)
        name = secret_name(provider, org)
        if org is not None:
            secret = set_org_key(session, store, actor, org, _read_key())
        else:
            secret = store.set(name, _read_key())
    if secret.source is Source.FILE:
        warn(
            _("No OS keyring is available: the key is stored as plain text in {path} (mode 0600).").format(
                path=secret.detail
            )
        )
    say(
        _("Stored the {name} key ({masked}) in {place}.").format(
            name=name, masked=secret.masked, place=secret.source.value
        )
    )
    variable = store.environment_variable(name)
    if variable:
        warn(_("Note: {variable} is set in the environment and takes precedence.").format(variable=variable))


@app.command("list", help=_("Which keys are present and where they come from (masked)."))
def list_keys(json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    from mai_tui.core.secrets import secret_name
    from mai_tui.core.usage.orgs import list_orgs

    with signed_in() as (ctx, session, _actor):
        store = ctx.secrets
        names = [*store.known_names(), *(secret_name("openrouter", org.name) for org in list_orgs(session))]
        rows = []
        for name in names:
            secret = store.get(name)
            rows.append(
                {
                    "name": name,
                    "present": secret is not None,
                    "source": secret.source.value if secret else None,
                    "where": secret.detail if secret else None,
                    "key": secret.masked if secret else None,
                }
            )
    if json_out:
        print_json(rows)
        return
    print_table(
        [_("name"), _("present"), _("source"), _("where"), _("key")],
        [list(row.values()) for row in rows],
        title=store.backend_description(),
    )


@app.command("delete", help=_("Delete a stored key."))
def delete_key(provider: ProviderArg, org: OrgOption = None) -> None:
    from mai_tui.core.errors import NotFound
    from mai_tui.core.secrets import secret_name
    from mai_tui.core.usage.orgs import remove_org_key

    with signed_in() as (ctx, session, actor):
        store = ctx.secrets
        store.check_name(provider)
        name = secret_name(provider, org)
        removed = remove_org_key(session, store, actor, org) if org is not None else store.delete(name)
    if not removed:
        raise NotFound(_("no stored {name} key").format(name=name))
    say(_("Deleted the {name} key from {places}.").format(name=name, places=", ".join(s.value for s in removed)))
    variable = store.environment_variable(name)
    if variable:
        warn(_("Note: {variable} is still set in the environment.").format(variable=variable))
