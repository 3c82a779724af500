"""`mai config path|show|set`."""

from __future__ import annotations

from typing import Annotated

import typer

from mai_tui.cli.output import context, print_json, say
from mai_tui.i18n import _

app = typer.Typer(help=_("Show and change settings."), no_args_is_help=True)


@app.command("path", help=_("Print where config, data and logs live."))
def path(json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    from mai_tui.locations import Paths

    paths = Paths.from_environment()
    places = {
        "config_file": paths.config_file,
        "secrets_file": paths.secrets_file,
        "data_dir": paths.data_dir,
        "database": paths.database_file,
        "lancedb": paths.lancedb_dir,
        "models": paths.models_dir,
        "log_file": paths.log_file,
    }
    if json_out:
        print_json({name: str(place) for name, place in places.items()})
        return
    width = max(len(name) for name in places)
    for name, place in places.items():
        say(f"{name.ljust(width)}  {place}")


@app.command("show", help=_("Print the effective settings (keys masked)."))
def show(json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    import tomlkit

    from mai_tui.config import settings_as_dict

    ctx = context()
    data = settings_as_dict(ctx.settings)
    store = ctx.secrets
    keys = {}
    for name in store.known_names():
        secret = store.get(name)
        keys[name] = f"{secret.masked} ({secret.source.value})" if secret else None
    if json_out:
        print_json({"settings": data, "keys": keys})
        return
    say(_("# effective settings (defaults < {file} < environment)").format(file=ctx.paths.config_file))
    say(tomlkit.dumps(_drop_none(data)).rstrip())
    say("")
    say(_("# keys (see: mai keys list)"))
    for name, shown in keys.items():
        say(f"# {name}: {shown or _('not set')}")


def _drop_none(data: dict[str, object]) -> dict[str, object]:
    """TOML has no null: leave unset values out of the listing."""
    return {k: _drop_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None}


@app.command("set", help=_("Set KEY to VALUE in config.toml (comments are kept)."))
def set_value(
    key: Annotated[str, typer.Argument(help=_("Dotted setting name, e.g. providers.ollama.base_url"))],
    value: Annotated[str, typer.Argument(help=_("The new value"))],
) -> None:
    from mai_tui.config import Paths, set_config_value

    stored = set_config_value(key, value)
    say(
        _("{key} = {value!r} written to {file}").format(
            key=key, value=stored, file=Paths.from_environment().config_file
        )
    )
