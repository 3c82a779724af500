"""Conversation titles: the first line of the first prompt, or a short one written by a small
model when `title_model` is configured."""

from __future__ import annotations

from contextlib import aclosing

from mai_tui.core.chat import tree as trees
from mai_tui.core.chat.conversations import TITLE_LENGTH
from mai_tui.core.context import AppContext
from mai_tui.core.providers.base import ChatRequest, Message
from mai_tui.core.providers.events import Answer
from mai_tui.core.providers.registry import Providers, split_model
from mai_tui.core.store.models import CallKind
from mai_tui.core.usage.billing import billing_for, charge

INSTRUCTION = (
    "Write a title of three to six words for a conversation that starts with the user's message below. "
    "Reply with the title only, no quotes, no punctuation at the end."
)


def clean_title(text: str) -> str:
    """The model's first line, without quotes or markdown, shortened; empty if nothing usable."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = line.strip("\"'`*#“”‘’ ").rstrip(".")
    if len(line) > TITLE_LENGTH:
        line = line[: TITLE_LENGTH - 1].rstrip() + "…"
    return line


async def generate_title(context: AppContext, providers: Providers, conversation_id: int) -> str | None:
    """Ask the title model for a title and store it; None (title unchanged) on any failure."""
    model = context.settings.title_model
    if not model:
        return None
    provider_name, model_id = split_model(model, context.settings)
    with context.session() as session:
        path = trees.load(session, conversation_id).path()
        first = next((m.content for m in path if m.role == "user"), "")
        if not first:
            return None
        request = ChatRequest(
            model=model_id, messages=[Message("user", first[:4000])], system=INSTRUCTION, max_tokens=30, temperature=0.2
        )
        billing = billing_for(
            session,
            context.secrets,
            context.current_user(session),
            kind=CallKind.TITLE,
            provider=provider_name,
            model=model,
            conversation_id=conversation_id,
            prompt_chars=len(INSTRUCTION) + len(request.messages[0].content),
        )
    answer = Answer()
    try:
        async with aclosing(providers.get(provider_name).stream(request)) as events:
            async for event in events:
                answer.apply(event)
    finally:  # the title call is billed like any other, even when it is cut short
        with context.session() as session:
            charge(session, billing, answer, message_id=None)
    title = clean_title(answer.text)
    if answer.error is not None or not title:
        return None
    with context.session() as session:
        conversation = trees.load(session, conversation_id).conversation
        conversation.title = title
        session.add(conversation)
    return title
