"""Preparing one turn of a conversation: check who may call which model, save the prompt and
an empty answer, and build the request from the branch's history (fitted to the context)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from mai_tui.core.chat import tree as trees
from mai_tui.core.chat.conversations import require_can_call_models, title_from
from mai_tui.core.chat.parameters import Parameters
from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput
from mai_tui.core.providers import catalogue
from mai_tui.core.providers.base import ChatRequest, Message
from mai_tui.core.providers.registry import split_model
from mai_tui.core.store.models import ChatMessage, Conversation
from mai_tui.i18n import _

CONTINUE_INSTRUCTION = "Continue your previous answer exactly where it stopped. Do not repeat anything."


@dataclass
class Turn:
    conversation_id: int
    prompt: ChatMessage
    answer: ChatMessage
    request: ChatRequest
    model: str  # provider/model
    provider: str
    dropped: int  # old turns left out to fit the model's context
    prefix: str = ""  # text already in the answer (continuing a cut-off answer)
    previous_leaf: int | None = None  # what the conversation showed before this turn
    created: tuple[int, ...] = ()  # messages this turn added, oldest first (taken back if it gets nothing)


def resolve_model(context: AppContext, model: str | None) -> tuple[str, str, str]:
    """(full name, provider, provider's model id) from the given or the default model."""
    name = model or context.settings.default_model
    if not name:
        raise InvalidInput(
            _("no model given: pass -m PROVIDER/MODEL or set one with: mai config set default_model PROVIDER/MODEL")
        )
    provider, model_id = split_model(name, context.settings)
    if provider not in ("ollama", *context.settings.providers.custom) and context.secrets.get(provider) is None:
        raise InvalidInput(_("no API key for {provider}: run  mai keys set {provider}").format(provider=provider))
    return name, provider, model_id


def _request(
    session: Session,
    tree: trees.Tree,
    path: list[ChatMessage],
    *,
    model_id: str,
    name: str,
    user: str,
    extra: list[Message] | None = None,
) -> tuple[ChatRequest, int]:
    """The request for the branch `path` (oldest turns dropped to fit), and how many were dropped."""
    conversation = tree.conversation
    system = conversation.system_prompt
    fitted = trees.fit_history(path, system=system, context_length=catalogue.context_length(session, name))
    messages = [Message("user" if t.role == "user" else "assistant", t.content) for t in fitted.turns]
    request = ChatRequest(
        model=model_id,
        messages=[*messages, *(extra or [])],
        system=system,
        temperature=conversation.temperature,
        max_tokens=conversation.max_tokens,
        user=user,
    )
    return request, fitted.dropped


def prepare_turn(
    context: AppContext,
    text: str,
    *,
    conversation_id: int | None = None,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    edit_of: int | None = None,
) -> Turn:
    """Save the prompt (before anything goes out) and the empty answer; build the request.

    With `edit_of`, the prompt is an edited copy of that earlier prompt: a new sibling branch.
    """
    if not text.strip():
        raise InvalidInput(_("nothing to ask: give a prompt or pipe text in"))
    name, provider, model_id = resolve_model(context, model)
    with context.session() as session:
        user = context.current_user(session)
        require_can_call_models(user)
        if conversation_id is None:
            conversation = Conversation(
                user_id=user.id,
                title=title_from(text),
                model=name,
                system_prompt=system,
                temperature=temperature,
                max_tokens=max_tokens,
            )
            session.add(conversation)
            session.flush()
            assert conversation.id is not None
            conversation_id = conversation.id
        tree = trees.load(session, conversation_id)
        tree.conversation.model = name
        previous_leaf = tree.conversation.current_leaf_id
        if edit_of is not None:
            prompt, answer = trees.edit_prompt(session, tree, edit_of, text, model=name, provider=provider)
        else:
            prompt, answer = trees.add_prompt(
                session, tree, text, model=name, provider=provider, parent_id=tree.conversation.current_leaf_id
            )
        request, dropped = _request(session, tree, tree.path(prompt.id), model_id=model_id, name=name, user=user.name)
    return Turn(
        conversation_id,
        prompt,
        answer,
        request,
        name,
        provider,
        dropped,
        previous_leaf=previous_leaf,
        created=(prompt.id or 0, answer.id or 0),
    )


@contextmanager
def _existing(
    context: AppContext, conversation_id: int, model: str | None
) -> Iterator[tuple[Session, trees.Tree, str, str, str, str]]:
    """For a turn on an existing conversation: (session, tree, model name, provider, model id, user)."""
    name, provider, model_id = resolve_model(context, model)
    with context.session() as session:
        user = context.current_user(session)
        require_can_call_models(user)
        yield session, trees.load(session, conversation_id), name, provider, model_id, user.name


def prepare_regenerate(context: AppContext, conversation_id: int, *, model: str | None = None) -> Turn:
    """A fresh answer to the last prompt, beside the current one."""
    with _existing(context, conversation_id, model) as (session, tree, name, provider, model_id, user):
        path = tree.path()
        last_answer = next((m for m in reversed(path) if m.role == "assistant"), None)
        if last_answer is None or last_answer.parent_id is None:
            raise InvalidInput(_("there is no answer to regenerate"))
        prompt = tree.by_id(last_answer.parent_id)
        previous_leaf = tree.conversation.current_leaf_id
        answer = trees.regenerate(session, tree, last_answer.id or 0, model=name, provider=provider)
        request, dropped = _request(session, tree, tree.path(prompt.id), model_id=model_id, name=name, user=user)
    return Turn(
        conversation_id,
        prompt,
        answer,
        request,
        name,
        provider,
        dropped,
        previous_leaf=previous_leaf,
        created=(answer.id or 0,),
    )


def prepare_continue(context: AppContext, conversation_id: int, *, model: str | None = None) -> Turn:
    """Ask the model to carry on a cut-off last answer; the continuation is appended to it."""
    with _existing(context, conversation_id, model) as (session, tree, name, provider, model_id, user):
        path = tree.path()
        if not path or path[-1].role != "assistant" or path[-1].parent_id is None:
            raise InvalidInput(_("there is no answer to continue"))
        answer = trees.resume(session, tree, path[-1].id or 0)
        prompt = tree.by_id(answer.parent_id or 0)
        request, dropped = _request(
            session,
            tree,
            path,
            model_id=model_id,
            name=name,
            user=user,
            extra=[Message("user", CONTINUE_INSTRUCTION)],
        )
        prefix = answer.content
    return Turn(conversation_id, prompt, answer, request, name, provider, dropped, prefix=prefix)


def get_parameters(context: AppContext, conversation_id: int) -> Parameters:
    with context.session(write=False) as session:
        conversation = trees.load(session, conversation_id).conversation
        return Parameters(conversation.system_prompt, conversation.temperature, conversation.max_tokens)


def set_parameters(context: AppContext, conversation_id: int, parameters: Parameters) -> None:
    """The conversation's system prompt, temperature and max tokens, used from its next turn on."""
    with context.session() as session:
        conversation = trees.load(session, conversation_id).conversation
        conversation.system_prompt = parameters.system_prompt or None
        conversation.temperature = parameters.temperature
        conversation.max_tokens = parameters.max_tokens
        session.add(conversation)


def switch(context: AppContext, conversation_id: int, step: int) -> trees.Tree | None:
    """Show the previous/next branch of the newest message that has siblings; None if none has."""
    with context.session() as session:
        tree = trees.load(session, conversation_id)
        for message in reversed(tree.path()):
            if tree.branch(message).count > 1:
                trees.switch_branch(session, tree, message.id or 0, step)
                return tree
    return None


def discard_turn(context: AppContext, turn: Turn) -> None:
    """Take back a turn that got no answer at all (stopped before the first token): the
    messages it created go, and the conversation shows again what it showed before."""
    with context.session() as session:
        tree = trees.load(session, turn.conversation_id)
        for message_id in reversed(turn.created):  # the answer first: deleting its prompt would cascade
            session.delete(tree.by_id(message_id))
            session.flush()
        remaining = trees.load(session, turn.conversation_id)
        if not remaining.messages:  # nothing else in it: the conversation goes too
            session.delete(remaining.conversation)
            return
        ids = {m.id for m in remaining.messages}
        leaf = turn.previous_leaf if turn.previous_leaf in ids else remaining.messages[-1].id
        remaining.conversation.current_leaf_id = leaf
        session.add(remaining.conversation)


def recent(session: Session, user_id: int | None, limit: int = 50) -> list[Conversation]:
    query = select(Conversation).where(col(Conversation.archived).is_(False))
    if user_id is not None:
        query = query.where(Conversation.user_id == user_id)
    return list(
        session.exec(
            query.order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc()).limit(limit)
        ).all()
    )


def total_cost(session: Session, conversation_id: int) -> Decimal:
    """What the provider reported for every answer of the conversation, in USD."""
    # Summed here, not in SQL: SQLite keeps these as exact text, and SUM() would make floats of them.
    answers = session.exec(
        select(ChatMessage).where(
            ChatMessage.conversation_id == conversation_id, col(ChatMessage.cost_usd).is_not(None)
        )
    ).all()
    return sum((m.cost_usd for m in answers if m.cost_usd is not None), Decimal(0))
