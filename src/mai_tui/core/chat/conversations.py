"""Storing conversations and messages. Everything is written as it happens: the prompt
before the request goes out, the answer while it streams, so a killed process loses
nothing that was already on screen."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from mai_tui.core.errors import NotFound, PermissionDenied
from mai_tui.core.providers.events import Answer
from mai_tui.core.store.models import ChatMessage, MessageStatus, Role, User
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _

TITLE_LENGTH = 80


def require_can_call_models(user: User) -> None:
    """Pending users may look around, but model calls wait for an admin's approval."""
    if user.role == Role.PENDING:
        raise PermissionDenied(
            _("'{name}' is pending: an admin must give you a role first (mai users role {name} user)").format(
                name=user.name
            )
        )


def title_from(prompt: str) -> str:
    """The first non-empty line of the prompt, shortened."""
    line = next((line.strip() for line in prompt.splitlines() if line.strip()), "")
    if len(line) > TITLE_LENGTH:
        line = line[: TITLE_LENGTH - 1].rstrip() + "…"
    return line or _("New chat")


STALE_AFTER_SECONDS = 120  # a live stream saves every 0.5 s; one silent this long died with its process


def close_interrupted(session: Session, now: datetime | None = None) -> int:
    """Answers left `streaming` by a process that was killed become `cancelled` (their text kept)."""
    cutoff = (now or utcnow()) - timedelta(seconds=STALE_AFTER_SECONDS)
    stale = session.exec(
        select(ChatMessage).where(
            ChatMessage.status == MessageStatus.STREAMING.value, col(ChatMessage.updated_at) < cutoff
        )
    ).all()
    for message in stale:
        message.status = MessageStatus.CANCELLED.value
        message.finish_reason = message.finish_reason or MessageStatus.CANCELLED.value
        message.error = _("interrupted: the app stopped while this answer was being written")
        session.add(message)
    return len(stale)


def save_answer(
    session: Session,
    message_id: int,
    answer: Answer,
    *,
    status: MessageStatus,
    first_token_ms: int | None = None,
    duration_ms: int | None = None,
) -> ChatMessage:
    """Write what the answer holds now (called while streaming and once at the end)."""
    message = session.get(ChatMessage, message_id)
    if message is None:
        raise NotFound(_("no message {id}").format(id=message_id))
    message.content = answer.text
    message.reasoning = answer.reasoning or None
    message.status = status.value
    message.generation_id = answer.generation_id or message.generation_id
    message.finish_reason = answer.finish_reason or (status.value if status is MessageStatus.CANCELLED else None)
    if answer.error is not None:
        message.error = str(answer.error)
        message.error_kind = answer.error.kind.value
    elif status is MessageStatus.COMPLETE:  # e.g. marked "interrupted" by another instance meanwhile
        message.error = message.error_kind = None
    usage = answer.usage
    if usage is not None:
        message.prompt_tokens = usage.prompt_tokens
        message.completion_tokens = usage.completion_tokens
        message.cached_tokens = usage.cached_tokens
        message.cache_write_tokens = usage.cache_write_tokens
        message.reasoning_tokens = usage.reasoning_tokens
        message.cost_usd = usage.cost_usd
    message.first_token_ms = first_token_ms if first_token_ms is not None else message.first_token_ms
    message.duration_ms = duration_ms if duration_ms is not None else message.duration_ms
    message.updated_at = utcnow()
    session.add(message)
    return message
