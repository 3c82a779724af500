"""Writing an import's drafts to the database: conversations, their messages linked into the
same tree, the current branch and tags. Messages are marked complete and carry no cost."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from mai_tui.core.chat.importers.drafts import Draft
from mai_tui.core.store.models import ChatMessage, Conversation, ConversationTag, MessageStatus


def write(session: Session, drafts: Sequence[Draft], user_id: int | None) -> list[int]:
    """Write the drafts; every message is inserted in one batch per conversation, then linked to
    its parent (one insert per message would be one round trip each on a server database)."""
    created: list[int] = []
    for draft in drafts:
        conversation = Conversation(
            user_id=user_id,
            title=draft.title,
            model=draft.model,
            system_prompt=draft.system_prompt,
            temperature=draft.temperature,
            max_tokens=draft.max_tokens,
            pinned=draft.pinned,
            archived=draft.archived,
            folder=draft.folder,
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
                content=message.content,
                reasoning=message.reasoning,
                status=MessageStatus.COMPLETE.value,
                provider=message.provider,
                model=message.model,
                prompt_tokens=message.prompt_tokens,
                completion_tokens=message.completion_tokens,
                cached_tokens=message.cached_tokens,
                cache_write_tokens=message.cache_write_tokens,
                reasoning_tokens=message.reasoning_tokens,
                citations=message.citations,
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
            session.add(ConversationTag(conversation_id=conversation.id, tag=tag))
        session.flush()
        created.append(conversation.id)
    return created
