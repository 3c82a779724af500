"""Streaming one answer into a stored message: saved as it grows, kept when stopped."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, replace

from mai_tui.core.chat.conversations import save_answer
from mai_tui.core.context import AppContext
from mai_tui.core.providers.base import ChatRequest, Provider
from mai_tui.core.providers.events import Answer, Event, TextDelta
from mai_tui.core.store.models import MessageStatus
from mai_tui.core.usage.billing import Billing, charge

SAVE_EVERY_SECONDS = 0.5  # how stale the stored partial answer may get while streaming
HEARTBEAT_SECONDS = 30.0  # a silent stream (a model thinking) still shows it is alive this often


@dataclass
class Outcome:
    answer: Answer
    status: MessageStatus
    first_token_ms: int | None
    duration_ms: int


async def stream_into(
    context: AppContext,
    provider: Provider,
    request: ChatRequest,
    message_id: int,
    *,
    on_event: Callable[[Event], Awaitable[None] | None] | None = None,
    prefix: str = "",
    billing: Billing | None = None,
) -> Outcome:
    """Stream `request` into message `message_id` (after `prefix`, when continuing an answer).

    The message is written every half second while text arrives and once at the end with its
    final status; a cancelled task leaves it `cancelled` with everything received so far.
    With `billing`, the final write also records the call in the usage ledger, in the same
    transaction.
    """
    if billing is not None and billing.provider == provider.name:  # the key this provider really calls with
        billing = replace(billing, key_hash=provider.org_key_hash)
    answer = Answer()
    if prefix:
        answer.apply(TextDelta(prefix))
    started = time.monotonic()
    first_token_ms: int | None = None
    last_saved = started
    status = MessageStatus.STREAMING

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    def save(state: MessageStatus) -> None:
        final = state is not MessageStatus.STREAMING
        with context.session() as session:
            save_answer(
                session,
                message_id,
                answer,
                status=state,
                first_token_ms=first_token_ms,
                duration_ms=elapsed_ms() if final else None,
            )
            if final and billing is not None:
                charge(session, billing, answer, message_id=message_id, prefix=prefix)

    async def heartbeat() -> None:
        # Keep `updated_at` fresh while the provider sends nothing but keep-alives, so another
        # instance starting up does not take this answer for one left by a killed process.
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            save(MessageStatus.STREAMING)

    beating = asyncio.create_task(heartbeat())
    try:
        async with aclosing(provider.stream(request)) as events:
            async for event in events:
                answer.apply(event)
                if first_token_ms is None and isinstance(event, TextDelta):
                    first_token_ms = elapsed_ms()
                if on_event is not None:
                    shown = on_event(event)
                    if inspect.isawaitable(shown):
                        await shown
                now = time.monotonic()
                if now - last_saved >= SAVE_EVERY_SECONDS:
                    save(MessageStatus.STREAMING)
                    last_saved = now
        status = MessageStatus.ERROR if answer.error is not None else MessageStatus.COMPLETE
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = MessageStatus.CANCELLED
        raise
    finally:
        beating.cancel()
        if status is MessageStatus.STREAMING:  # an unexpected exception: keep what we have, as an error
            status = MessageStatus.ERROR
        save(status)
    return Outcome(answer, status, first_token_ms, elapsed_ms())
