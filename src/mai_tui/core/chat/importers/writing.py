"""Writing an import's drafts to the database: conversations, their messages linked into the
same tree, the current branch and tags. Messages are marked complete and carry no cost. Every
text is stored as every database can store it (`drafts.clean_text`: no NUL, no lone surrogate)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from mai_tui.core.chat.conversations import title_from
from mai_tui.core.chat.history import bulk_index
from mai_tui.core.chat.importers.drafts import TITLE_WIDTH, Draft, clean_text
from mai_tui.core.store.models import ChatMessage, Conversation, ConversationTag, MessageStatus


def _text(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def _title(draft: Draft) -> str:
    """The draft's title as stored; one made from the first prompt when cleaning left it blank."""
    title = clean_text(draft.title)
    if title.strip():
        return title
    first = next((clean_text(message.content) for message in draft.messages if message.role == "user"), "")
    return title_from(first)[:TITLE_WIDTH]


def write(session: Session, drafts: Sequence[Draft], user_id: int | None) -> list[int]:
    """Write the drafts; every message is inserted in one batch per conversation, then linked to
    its parent (one insert per message would be one round trip each on a server database).
    The search index takes each conversation once, at the end (`history.bulk_index`)."""
    created: list[int] = []
    with bulk_index(session) as touched:
        for draft in drafts:
            created.append(_write_one(session, draft, user_id))
        touched.update(created)
    return created


def _write_one(session: Session, draft: Draft, user_id: int | None) -> int:
    conversation = Conversation(
        user_id=user_id,
        title=_title(draft),
        model=_text(draft.model),
        system_prompt=_text(draft.system_prompt),
        temperature=draft.temperature,
        max_tokens=draft.max_tokens,
        pinned=draft.pinned,
        archived=draft.archived,
        folder=_text(draft.folder),
        created_at=draft.created_at,
        updated_at=draft.updated_at,
    )
    session.add(conversation)
    session.flush()
    assert conversation.id is not None
    rows: dict[str, ChatMessage] = {}
    for message in draft.messages:  # parents first: ids grow down the tree, siblings keep their order
        row = ChatMessage(
            conversation_id=conversation.id,
            role=message.role,
            content=clean_text(message.content),
            reasoning=_text(message.reasoning),
            status=MessageStatus.COMPLETE.value,
            provider=_text(message.provider),
            model=_text(message.model),
            prompt_tokens=message.prompt_tokens,
            completion_tokens=message.completion_tokens,
            cached_tokens=message.cached_tokens,
            cache_write_tokens=message.cache_write_tokens,
            reasoning_tokens=message.reasoning_tokens,
            citations=_text(message.citations),
            created_at=message.created_at,
            updated_at=message.created_at,
        )
        rows[message.key] = row
        session.add(row)
    session.flush()
    for message in draft.messages:
        if message.parent is not None:
            rows[message.key].parent_id = rows[message.parent].id
    conversation.current_leaf_id = rows[draft.current].id if draft.current is not None else None
    session.add(conversation)
    for tag in draft.tags:
        session.add(ConversationTag(conversation_id=conversation.id, tag=clean_text(tag)))
    session.flush()
    return conversation.id
