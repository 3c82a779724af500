"""`mai presets list|add|remove`: workspace models (a model with its system prompt,
parameters and knowledge collection), picked for a new chat in the TUI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mai_tui.cli.output import context, print_json, print_table, say
from mai_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from mai_tui.core.store.models import Preset

app = typer.Typer(help=_("Presets: a model with its system prompt, parameters and documents."), no_args_is_help=True)


def as_row(preset: Preset) -> dict[str, Any]:
    return {
        "name": preset.name,
        "model": preset.model,
        "system_prompt": preset.system_prompt,
        "temperature": preset.temperature,
        "max_tokens": preset.max_tokens,
        "collection": preset.collection,
        "created_at": preset.created_at,
        "updated_at": preset.updated_at,
    }


@app.command("list", help=_("List the presets."))
def list_presets(json_out: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    from mai_tui.core.chat.presets import list_presets as presets

    rows = [as_row(preset) for preset in presets(context())]
    if json_out:
        print_json(rows)
        return
    if not rows:
        say(_("No presets yet: mai presets add NAME -m PROVIDER/MODEL"))
        return
    print_table(
        [_("name"), _("model"), _("temperature"), _("max tokens"), _("collection"), _("system prompt")],
        [
            (r["name"], r["model"], r["temperature"], r["max_tokens"], r["collection"], _shorten(r["system_prompt"]))
            for r in rows
        ],
    )


@app.command("add", help=_("Add a preset."))
def add(
    name: Annotated[str, typer.Argument(help=_("The preset's name."))],
    model: Annotated[str, typer.Option("-m", "--model", help=_("PROVIDER/MODEL."))],
    system: Annotated[str | None, typer.Option("-s", "--system", help=_("A system prompt."))] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", help=_("0 to 2."))] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help=_("At most this many tokens per answer."))
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option("--kb", metavar="NAME", help=_("A knowledge collection searched for every prompt.")),
    ] = None,
) -> None:
    from mai_tui.core.chat.presets import PresetSpec, add_preset

    preset = add_preset(context(), PresetSpec(name, model, system, temperature, max_tokens, collection))
    say(_("Added preset '{name}' ({model}).").format(name=preset.name, model=preset.model))


@app.command("remove", help=_("Remove a preset (conversations started from it keep their settings)."))
def remove(name: Annotated[str, typer.Argument(help=_("The preset's name."))]) -> None:
    from mai_tui.core.chat.presets import get_preset, remove_preset

    ctx = context()
    preset = get_preset(ctx, name)
    count = remove_preset(ctx, preset.id or 0)
    line = ngettext(
        "Removed preset '{name}' ({n} conversation was started from it).",
        "Removed preset '{name}' ({n} conversations were started from it).",
        count,
    )
    say(line.format(name=preset.name, n=count))


def _shorten(text: str | None, length: int = 40) -> str | None:
    if text is None:
        return None
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1] + "…"
