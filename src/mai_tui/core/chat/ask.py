"""One question, one streamed answer, saved as a conversation (`mai ask`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mai_tui.core.chat.conversations import Exchange, begin_exchange, require_can_call_models
from mai_tui.core.chat.streaming import stream_into
from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput
from mai_tui.core.providers.base import ChatRequest, Message
from mai_tui.core.providers.events import Answer, Event, TextDelta
from mai_tui.core.providers.registry import Providers, split_model
from mai_tui.i18n import _


@dataclass
class AskResult:
    answer: Answer
    model: str  # provider/model
    provider: str
    exchange: Exchange
    duration_ms: int
    first_token_ms: int | None


def resolve_model(context: AppContext, model: str | None) -> tuple[str, str, str]:
    """(full name, provider, provider's model id) from -m or the default model."""
    name = model or context.settings.default_model
    if not name:
        raise InvalidInput(
            _("no model given: pass -m PROVIDER/MODEL or set one with: mai config set default_model PROVIDER/MODEL")
        )
    provider, model_id = split_model(name, context.settings)
    return name, provider, model_id


def check_key(context: AppContext, providers: Providers, provider: str) -> None:
    if provider in ("ollama", *context.settings.providers.custom):
        return
    if context.secrets.get(provider) is None:
        raise InvalidInput(_("no API key for {provider}: run  mai keys set {provider}").format(provider=provider))


async def ask(
    context: AppContext,
    prompt: str,
    *,
    model: str | None = None,
    system: str | None = None,
    on_text: Callable[[str], None] | None = None,
) -> AskResult:
    """Stream one answer, saving as it goes. Cancelling keeps the partial answer (status `cancelled`)."""
    if not prompt.strip():
        raise InvalidInput(_("nothing to ask: give a prompt or pipe text in"))
    name, provider_name, model_id = resolve_model(context, model)
    providers = Providers(context.settings, context.secrets)
    check_key(context, providers, provider_name)
    with context.session() as session:
        user = context.current_user(session)
        require_can_call_models(user)
        exchange = begin_exchange(session, user, model=name, provider=provider_name, prompt=prompt, system=system)
        user_name = user.name

    request = ChatRequest(model=model_id, messages=[Message("user", prompt)], system=system, user=user_name)

    def show(event: Event) -> None:
        if on_text is not None and isinstance(event, TextDelta):
            on_text(event.text)

    try:
        outcome = await stream_into(context, providers.get(provider_name), request, exchange.answer_id, on_event=show)
    finally:
        await providers.aclose()
    return AskResult(outcome.answer, name, provider_name, exchange, outcome.duration_ms, outcome.first_token_ms)
