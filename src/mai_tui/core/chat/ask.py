"""One question, one streamed answer, saved as a conversation (`mai ask`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass

from mai_tui.core.chat.conversations import Exchange, begin_exchange, require_can_call_models, save_answer
from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput
from mai_tui.core.providers.base import ChatRequest, Message
from mai_tui.core.providers.events import Answer, TextDelta
from mai_tui.core.providers.registry import Providers, split_model
from mai_tui.core.store.models import MessageStatus
from mai_tui.i18n import _

SAVE_EVERY_SECONDS = 0.5  # how stale the stored partial answer may get while streaming


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
    answer = Answer()
    started = time.monotonic()
    first_token_ms: int | None = None
    last_saved = started
    status = MessageStatus.STREAMING

    def save(state: MessageStatus) -> None:
        duration = int((time.monotonic() - started) * 1000)
        with context.session() as session:
            save_answer(
                session,
                exchange.answer_id,
                answer,
                status=state,
                first_token_ms=first_token_ms,
                duration_ms=duration if state is not MessageStatus.STREAMING else None,
            )

    try:
        provider = providers.get(provider_name)
        async with aclosing(provider.stream(request)) as events:
            async for event in events:
                answer.apply(event)
                if isinstance(event, TextDelta):
                    if first_token_ms is None:
                        first_token_ms = int((time.monotonic() - started) * 1000)
                    if on_text is not None:
                        on_text(event.text)
                now = time.monotonic()
                if now - last_saved >= SAVE_EVERY_SECONDS:
                    save(MessageStatus.STREAMING)
                    last_saved = now
        status = MessageStatus.ERROR if answer.error is not None else MessageStatus.COMPLETE
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = MessageStatus.CANCELLED
        raise
    finally:
        if status is MessageStatus.STREAMING:  # an unexpected exception: keep what we have, marked as an error
            status = MessageStatus.ERROR
        save(status)
        await providers.aclose()
    return AskResult(answer, name, provider_name, exchange, int((time.monotonic() - started) * 1000), first_token_ms)
