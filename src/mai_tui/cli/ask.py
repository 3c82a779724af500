"""`mai ask`: one question, the answer streamed to stdout, saved as a conversation."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from mai_tui.i18n import _


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
    json_out: Annotated[bool, typer.Option("--json", help=_("Print one JSON object at the end."))] = False,
    over_budget: Annotated[
        bool, typer.Option("--over-budget", help=_("Send even past the organization's monthly limit (admin)."))
    ] = False,
) -> None:
    import asyncio

    from mai_tui.cli.output import context, print_json
    from mai_tui.core.chat.ask import ask as run

    ctx = context()
    text = _prompt(prompt)
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
            run(ctx, text, model=model, system=system, on_text=show, override_budget=over_budget, on_warning=warn)
        )
    except KeyboardInterrupt:
        if streamed and not json_out:
            sys.stdout.write("\n")
        raise
    answer = result.answer
    if json_out:
        print_json(
            {
                "text": answer.text,
                "model": result.model,
                "provider": result.provider,
                "usage": _usage(result),
                "generation_id": answer.generation_id,
                "finish_reason": answer.finish_reason,
                "conversation_id": result.turn.conversation_id,
                "error": None
                if answer.error is None
                else {"kind": answer.error.kind.value, "message": str(answer.error)},
            }
        )
    else:
        if answer.text and not answer.text.endswith("\n"):
            sys.stdout.write("\n")
        if sys.stderr.isatty():
            sys.stderr.write(_summary(result) + "\n")
    if answer.error is not None:
        raise answer.error


def _summary(result: Any) -> str:
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
