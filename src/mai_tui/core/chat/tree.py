"""The conversation tree: every message points to its parent; the path from the root to the
conversation's current leaf is what the user sees. Regenerating adds a sibling answer,
editing a prompt adds a sibling prompt, and the user steps between siblings (◀ 2/3 ▶)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.store.models import ChatMessage, Conversation, MessageStatus, User
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _


@dataclass(frozen=True)
class Branch:
    """Where a message sits among its siblings: `index` of `count`, both counting from 1."""

    index: int
    count: int


@dataclass
class Tree:
    """A conversation with all its messages, in the order they were written."""

    conversation: Conversation
    messages: list[ChatMessage]
    _ids: dict[int, ChatMessage] = field(default_factory=dict, repr=False)
    _children: dict[int | None, list[ChatMessage]] = field(default_factory=dict, repr=False)
    _indexed: int = field(default=0, repr=False)

    def _index(self) -> None:
        """Index new messages (lookups stay O(1) on a 1,000-message conversation)."""
        for message in self.messages[self._indexed :]:
            if message.id is not None:
                self._ids[message.id] = message
            self._children.setdefault(message.parent_id, []).append(message)
        self._indexed = len(self.messages)

    def by_id(self, message_id: int) -> ChatMessage:
        self._index()
        message = self._ids.get(message_id)
        if message is None:
            raise NotFound(_("no message {id}").format(id=message_id))
        return message

    def children(self, parent_id: int | None) -> list[ChatMessage]:
        self._index()
        return list(self._children.get(parent_id, []))

    def siblings(self, message: ChatMessage) -> list[ChatMessage]:
        return self.children(message.parent_id)

    def branch(self, message: ChatMessage) -> Branch:
        siblings = self.siblings(message)
        return Branch(next(i for i, m in enumerate(siblings, 1) if m.id == message.id), len(siblings))

    def latest_leaf(self, message: ChatMessage) -> ChatMessage:
        """Follow the newest child down to a leaf (where switching to a branch lands)."""
        while children := self.children(message.id):
            message = children[-1]
        return message

    def path(self, leaf_id: int | None = None) -> list[ChatMessage]:
        """Root → leaf, for the conversation's current leaf unless another is given."""
        leaf_id = leaf_id if leaf_id is not None else self.conversation.current_leaf_id
        if leaf_id is None:
            return []
        path: list[ChatMessage] = []
        message: ChatMessage | None = self.by_id(leaf_id)
        while message is not None:
            path.append(message)
            message = self.by_id(message.parent_id) if message.parent_id is not None else None
        return path[::-1]


def load(session: Session, conversation_id: int, *, user: User | None = None) -> Tree:
    """The conversation and all its messages. A deleted one (restorable until purged) is not
    found; with `user`, only that user's own conversation is (to write a turn into it)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.deleted_at is not None:
        raise NotFound(_("no conversation {id}").format(id=conversation_id))
    if user is not None and conversation.user_id != user.id:
        raise PermissionDenied(_("conversation {id} belongs to another user").format(id=conversation_id))
    messages = session.exec(
        select(ChatMessage).where(ChatMessage.conversation_id == conversation_id).order_by(col(ChatMessage.id))
    ).all()
    return Tree(conversation, list(messages))


def _set_leaf(session: Session, tree: Tree, leaf: ChatMessage) -> None:
    tree.conversation.current_leaf_id = leaf.id
    tree.conversation.updated_at = utcnow()
    session.add(tree.conversation)


def switch_branch(session: Session, tree: Tree, message_id: int, step: int) -> ChatMessage:
    """Show the previous (`step=-1`) or next (`+1`) sibling of a message; returns the new leaf."""
    message = tree.by_id(message_id)
    siblings = tree.siblings(message)
    position = next(i for i, m in enumerate(siblings) if m.id == message.id)
    target = siblings[max(0, min(len(siblings) - 1, position + step))]
    leaf = tree.latest_leaf(target)
    _set_leaf(session, tree, leaf)
    return leaf


def _new_answer(session: Session, tree: Tree, parent: ChatMessage, model: str, provider: str) -> ChatMessage:
    answer = ChatMessage(
        conversation_id=parent.conversation_id,
        parent_id=parent.id,
        role="assistant",
        status=MessageStatus.STREAMING.value,
        provider=provider,
        model=model,
    )
    session.add(answer)
    session.flush()
    tree.messages.append(answer)
    _set_leaf(session, tree, answer)
    return answer


def add_prompt(
    session: Session, tree: Tree, content: str, *, model: str, provider: str, parent_id: int | None
) -> tuple[ChatMessage, ChatMessage]:
    """A new prompt under `parent_id` and the empty answer that will stream into it."""
    prompt = ChatMessage(conversation_id=tree.conversation.id or 0, parent_id=parent_id, role="user", content=content)
    session.add(prompt)
    session.flush()
    tree.messages.append(prompt)
    return prompt, _new_answer(session, tree, prompt, model, provider)


def regenerate(session: Session, tree: Tree, answer_id: int, *, model: str, provider: str) -> ChatMessage:
    """A new answer beside an old one (same prompt); the old one stays as a sibling."""
    old = tree.by_id(answer_id)
    if old.role != "assistant" or old.parent_id is None:
        raise InvalidInput(_("only an answer can be regenerated"))
    return _new_answer(session, tree, tree.by_id(old.parent_id), model, provider)


def edit_prompt(
    session: Session, tree: Tree, prompt_id: int, content: str, *, model: str, provider: str
) -> tuple[ChatMessage, ChatMessage]:
    """An edited prompt becomes a sibling branch of the original, with a fresh answer."""
    old = tree.by_id(prompt_id)
    if old.role != "user":
        raise InvalidInput(_("only a prompt can be edited and sent again"))
    return add_prompt(session, tree, content, model=model, provider=provider, parent_id=old.parent_id)


def resume(session: Session, tree: Tree, answer_id: int) -> ChatMessage:
    """Mark a cut-off answer as streaming again; its continuation is appended to it."""
    answer = tree.by_id(answer_id)
    if answer.role != "assistant":
        raise InvalidInput(_("only an answer can be continued"))
    answer.status = MessageStatus.STREAMING.value
    answer.error = answer.error_kind = None
    session.add(answer)
    _set_leaf(session, tree, tree.latest_leaf(answer))
    return answer


@dataclass(frozen=True)
class Said:
    """One message of the history as it goes to the model."""

    role: str
    content: str


@dataclass(frozen=True)
class Fitted:
    """What goes to the model: the turns that fit, and how many old ones were left out."""

    turns: list[Said]
    dropped: int


def estimate_tokens(text: str) -> int:
    """A cheap, deliberately generous token estimate (about 3.5 characters per token)."""
    return len(text) * 2 // 7 + 4


def fit_history(
    path: Sequence[ChatMessage], *, system: str | None, context_length: int | None, reserve: int = 1024
) -> Fitted:
    """The request's history: every finished turn of the path, oldest turns left out first when
    the model's context would overflow (the system prompt and the newest prompt always stay)."""
    turns = [Said(m.role, m.content) for m in path if m.content and m.status != MessageStatus.ERROR.value]
    if context_length is None:
        return Fitted(turns, 0)
    budget = context_length - reserve - (estimate_tokens(system) if system else 0)
    kept: list[Said] = []
    used = 0
    for turn in reversed(turns):
        cost = estimate_tokens(turn.content)
        if kept and used + cost > budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    while kept and kept[0].role != "user":  # a request starts with a prompt, never a lone answer
        kept.pop(0)
    return Fitted(kept, len(turns) - len(kept))
