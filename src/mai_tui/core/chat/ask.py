"""One question, one streamed answer, saved as a conversation (`mai ask`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mai_tui.core.chat.streaming import stream_into
from mai_tui.core.chat.turns import Turn, prepare_turn
from mai_tui.core.context import AppContext
from mai_tui.core.providers.events import Answer, Event, TextDelta
from mai_tui.core.providers.registry import Providers
from mai_tui.core.store.models import CallKind

if TYPE_CHECKING:
    from mai_tui.core.knowledge.retrieval import Passage


@dataclass
class AskResult:
    answer: Answer
    turn: Turn
    duration_ms: int
    first_token_ms: int | None

    @property
    def model(self) -> str:
        return self.turn.model

    @property
    def provider(self) -> str:
        return self.turn.provider

    @property
    def passages(self) -> list[Passage]:
        from mai_tui.core.knowledge.rag import load_citations

        return load_citations(self.turn.answer.citations)


async def ask(
    context: AppContext,
    prompt: str,
    *,
    model: str | None = None,
    system: str | None = None,
    on_text: Callable[[str], None] | None = None,
    override_budget: bool = False,
    on_warning: Callable[[str], None] | None = None,
    knowledge: Sequence[str] = (),
    k: int | None = None,
    preset_id: int | None = None,
) -> AskResult:
    """Stream one answer, saving as it goes. Cancelling keeps the partial answer (status `cancelled`).

    With `knowledge` (collection names), the answer is grounded in their passages, cited as [n].
    With `preset_id`, the conversation takes the preset's model, system prompt and parameters
    where none is given (its collection is the caller's to pass as `knowledge`).
    """
    retrieved = None
    if knowledge:
        from mai_tui.core.knowledge.rag import References, retrieve

        retrieved = retrieve(context, prompt, References(collections=list(knowledge)), k=k)
    turn = prepare_turn(
        context,
        prompt,
        model=model,
        system=system,
        kind=CallKind.RAG if retrieved else CallKind.ASK,
        override_budget=override_budget,
        retrieved=retrieved,
        preset_id=preset_id,
    )
    if turn.warning and on_warning is not None:
        on_warning(turn.warning)
    providers = Providers(context.settings, context.secrets, org=turn.billing.org_name if turn.billing else None)

    def show(event: Event) -> None:
        if on_text is not None and isinstance(event, TextDelta):
            on_text(event.text)

    try:
        outcome = await stream_into(
            context,
            providers.get(turn.provider),
            turn.request,
            turn.answer.id or 0,
            on_event=show,
            billing=turn.billing,
        )
    finally:
        await providers.aclose()
    return AskResult(outcome.answer, turn, outcome.duration_ms, outcome.first_token_ms)
