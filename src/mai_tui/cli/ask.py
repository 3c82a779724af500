"""`mai ask`: one question, the answer streamed to stdout, saved as a conversation.

`answer()` is shared with `mai kb ask`: both stream the same way, and both list the
sources of a grounded answer after it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mai_tui.i18n import _

if TYPE_CHECKING:
    from mai_tui.core.chat.ask import AskResult
    from mai_tui.core.knowledge.retrieval import Passage


def _prompt(argument: str | None) -> str:
    """The argument, with piped standard input appended (`cat notes.md | mai ask "summarise"`)."""
    piped = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    parts = [part for part in (argument, piped.strip("\n")) if part]
    return "\n\n".join(parts)


def _usage(result: Any) -> dict[str, Any]:
    usage = result.answer.usage
    return {
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
        "cached_tokens": usage.cached_tokens if usage else None,
        "cache_write_tokens": usage.cache_write_tokens if usage else None,
        "reasoning_tokens": usage.reasoning_tokens if usage else None,
        "cost_usd": usage.cost_usd if usage else None,
    }


def ask(
    prompt: Annotated[str | None, typer.Argument(help=_("The question; piped text is appended."))] = None,
    model: Annotated[
        str | None, typer.Option("-m", "--model", help=_("PROVIDER/MODEL (default: default_model)."))
    ] = None,
    system: Annotated[str | None, typer.Option("-s", "--system", help=_("A system prompt."))] = None,
    knowledge: Annotated[
        list[str] | None,
        typer.Option(
            "--kb", metavar="NAME", help=_("Answer from this knowledge collection, citing its sources (repeatable).")
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=_("Print one JSON object at the end."))] = False,
    over_budget: Annotated[
        bool, typer.Option("--over-budget", help=_("Send even past the organization's monthly limit (admin)."))
    ] = False,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset", metavar="NAME", help=_("Start from a preset: its model, system prompt and documents.")
        ),
    ] = None,
) -> None:
    answer(
        _prompt(prompt),
        model=model,
        system=system,
        json_out=json_out,
        over_budget=over_budget,
        knowledge=knowledge or (),
        preset=preset,
    )


def answer(
    text: str,
    *,
    model: str | None,
    system: str | None = None,
    json_out: bool = False,
    over_budget: bool = False,
    knowledge: Sequence[str] = (),
    k: int | None = None,
    preset: str | None = None,
) -> None:
    """Stream the answer to stdout (or print one JSON object), then its sources, if it has any."""
    import asyncio

    from mai_tui.cli.output import context, print_json
    from mai_tui.core.chat.ask import ask as run

    ctx = context()
    preset_id = None
    if preset is not None:  # its model, system prompt and parameters fill what is not given
        from mai_tui.core.chat.presets import get_preset

        chosen = get_preset(ctx, preset)
        preset_id = chosen.id
        if not knowledge and chosen.collection:
            from mai_tui.core.knowledge.collections import find as find_collection

            with ctx.session(write=False) as session:
                standing = find_collection(session, chosen.collection)
            if standing is not None:
                knowledge = [standing.name]
            else:  # removed since: the chat answers without it, as in the TUI
                sys.stderr.write(
                    _("Note: the preset's collection '{name}' no longer exists; answering without it.").format(
                        name=chosen.collection
                    )
                    + "\n"
                )
    streamed: list[str] = []

    def warn(text: str) -> None:
        sys.stderr.write(text + "\n")

    def show(delta: str) -> None:
        streamed.append(delta)
        if not json_out:
            sys.stdout.write(delta)
            sys.stdout.flush()

    try:
        result = asyncio.run(
            run(
                ctx,
                text,
                model=model,
                system=system,
                on_text=show,
                override_budget=over_budget,
                on_warning=warn,
                knowledge=knowledge,
                k=k,
                preset_id=preset_id,
            )
        )
    except KeyboardInterrupt:
        if streamed and not json_out:
            sys.stdout.write("\n")
        raise
    reply = result.answer
    passages = result.passages if knowledge else []
    if knowledge and not passages:
        warn(
            _("Note: nothing in {names} matches the question; the answer has no sources.").format(
                names=", ".join(knowledge)
            )
        )
    if json_out:
        data: dict[str, Any] = {
            "text": reply.text,
            "model": result.model,
            "provider": result.provider,
            "usage": _usage(result),
            "generation_id": reply.generation_id,
            "finish_reason": reply.finish_reason,
            "conversation_id": result.turn.conversation_id,
            "error": None if reply.error is None else {"kind": reply.error.kind.value, "message": str(reply.error)},
        }
        if knowledge:
            data["citations"] = citations(reply.text, passages)
        print_json(data)
    else:
        if reply.text and not reply.text.endswith("\n"):
            sys.stdout.write("\n")
        if passages and reply.error is None:
            print_sources(reply.text, passages)
        if sys.stderr.isatty():
            sys.stderr.write(_summary(result) + "\n")
    if reply.error is not None:
        raise reply.error


def citations(text: str, passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """Each passage as JSON with its source number `n` and whether the answer cites it."""
    from mai_tui.core.knowledge.rag import cited

    used = set(cited(text, len(passages)))
    return [{"n": n, "cited": n in used, **p.as_json()} for n, p in enumerate(passages, 1)]


def print_sources(text: str, passages: Sequence[Passage]) -> None:
    """`[n] file, page p — heading` for every passage; ✓ marks those the answer cites."""
    from mai_tui.core.knowledge.rag import cited

    used = set(cited(text, len(passages)))
    lines = ["", _("Sources (✓ cited in the answer):")]
    for n, passage in enumerate(passages, 1):
        line = f"{'✓' if n in used else ' '} [{n}] {passage.location()}"
        if passage.heading:
            line += f" — {passage.heading}"
        if passage.low_quality:
            line += " " + _("(low-quality text)")
        lines.append(line)
    sys.stdout.write("\n".join(lines) + "\n")


def _summary(result: AskResult) -> str:
    usage = result.answer.usage
    parts = [result.model]
    if usage is not None:
        parts.append(
            _("{prompt} → {completion} tokens").format(prompt=usage.prompt_tokens, completion=usage.completion_tokens)
        )
        if usage.cost_usd is not None:
            parts.append(f"${usage.cost_usd}")
    parts.append(f"{result.duration_ms / 1000:.1f} s")
    return "\x1b[2m" + " · ".join(parts) + "\x1b[0m"
