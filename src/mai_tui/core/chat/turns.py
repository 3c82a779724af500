"""Preparing one turn of a conversation: check who may call which model, save the prompt and
an empty answer, and build the request from the branch's history (fitted to the context)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import Session, select

from mai_tui.core.chat import tree as trees
from mai_tui.core.chat.conversations import require_can_call_models, title_from
from mai_tui.core.chat.parameters import Parameters
from mai_tui.core.chat.presets import apply_preset
from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput
from mai_tui.core.providers import catalogue
from mai_tui.core.providers.base import ChatRequest, Message
from mai_tui.core.providers.registry import split_model
from mai_tui.core.secrets import openrouter_key
from mai_tui.core.store.models import CallKind, ChatMessage, Conversation, LedgerEntry, User
from mai_tui.core.usage.billing import Billing, billing_for, check_spending, payer
from mai_tui.i18n import _

if TYPE_CHECKING:
    from mai_tui.core.knowledge.rag import Retrieved

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
    billing: Billing | None = None  # who pays: the ledger row is written with the final answer
    warning: str | None = None  # e.g. the org is close to its monthly limit


def resolve_model(context: AppContext, model: str | None) -> tuple[str, str, str]:
    """(full name, provider, provider's model id) from the given or the default model."""
    name = model or context.settings.default_model
    if not name:
        raise InvalidInput(
            _("no model given: pass -m PROVIDER/MODEL or set one with: mai config set default_model PROVIDER/MODEL")
        )
    provider, model_id = split_model(name, context.settings)
    return name, provider, model_id


def _admit(context: AppContext, session: Session, user: User, provider: str, *, override_budget: bool) -> str | None:
    """Refuse a call `user` may not make now (role, key, budget); a warning to show, if any."""
    require_can_call_models(user)
    org = payer(session, user)
    if provider == "openrouter":
        missing = openrouter_key(context.secrets, org.name)[0] is None
    else:
        missing = (
            provider not in ("ollama", *context.settings.providers.custom) and context.secrets.get(provider) is None
        )
    if missing:
        raise InvalidInput(_("no API key for {provider}: run  mai keys set {provider}").format(provider=provider))
    return check_spending(session, org, user, override=override_budget)


def _billing(
    context: AppContext,
    session: Session,
    user: User,
    request: ChatRequest,
    *,
    kind: CallKind,
    provider: str,
    model: str,
    conversation_id: int,
) -> Billing:
    chars = len(request.system or "") + sum(len(m.content) for m in request.messages)
    return billing_for(
        session,
        context.secrets,
        user,
        kind=kind,
        provider=provider,
        model=model,
        conversation_id=conversation_id,
        prompt_chars=chars,
    )


def _request(
    session: Session,
    tree: trees.Tree,
    path: list[ChatMessage],
    *,
    model_id: str,
    name: str,
    user: str,
    extra: list[Message] | None = None,
    augmented: str | None = None,
) -> tuple[ChatRequest, int]:
    """The request for the branch `path` (oldest turns dropped to fit), and how many were dropped.

    `augmented` replaces the last prompt's text in the request (e.g. the question with sources).
    """
    conversation = tree.conversation
    system = conversation.system_prompt
    # The sources added to the last prompt take room too: keep it free when fitting the history.
    reserve = 1024 + (trees.estimate_tokens(augmented) if augmented is not None else 0)
    fitted = trees.fit_history(
        path, system=system, context_length=catalogue.context_length(session, name), reserve=reserve
    )
    messages = [Message("user" if t.role == "user" else "assistant", t.content) for t in fitted.turns]
    prompts = [index for index, message in enumerate(messages) if message.role == "user"]
    if augmented is not None and prompts:  # the last prompt: the newest message, or the one a continued answer follows
        messages[prompts[-1]] = Message("user", augmented)
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
    kind: CallKind = CallKind.CHAT,
    override_budget: bool = False,
    retrieved: Retrieved | None = None,
    preset_id: int | None = None,
) -> Turn:
    """Save the prompt (before anything goes out) and the empty answer; build the request.

    With `edit_of`, the prompt is an edited copy of that earlier prompt: a new sibling branch.
    With `retrieved`, the model gets the question with its sources, and the answer keeps them.
    With `preset_id`, a new conversation takes the preset's model, system prompt, parameters
    and collection, where they are not given explicitly.
    """
    if not text.strip():
        raise InvalidInput(_("nothing to ask: give a prompt or pipe text in"))
    applied = apply_preset(
        context,
        preset_id if conversation_id is None else None,
        model=model,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
    )
    name, provider, model_id = resolve_model(context, applied.model)
    with context.session() as session:
        user = context.current_user(session)
        warning = _admit(context, session, user, provider, override_budget=override_budget)
        if conversation_id is None:
            conversation = Conversation(
                user_id=user.id,
                title=title_from(retrieved.references.question or text if retrieved else text),
                model=name,
                system_prompt=applied.system_prompt,
                temperature=applied.temperature,
                max_tokens=applied.max_tokens,
                preset_id=applied.preset_id,
                collection=applied.collection,
            )
            session.add(conversation)
            session.flush()
            assert conversation.id is not None
            conversation_id = conversation.id
        tree = trees.load(session, conversation_id, user=user)
        tree.conversation.model = name
        previous_leaf = tree.conversation.current_leaf_id
        if edit_of is not None:
            prompt, answer = trees.edit_prompt(session, tree, edit_of, text, model=name, provider=provider)
        else:
            prompt, answer = trees.add_prompt(
                session, tree, text, model=name, provider=provider, parent_id=tree.conversation.current_leaf_id
            )
        if retrieved is not None:
            answer.citations = retrieved.citations()
            session.add(answer)
            kind = CallKind.RAG if kind is CallKind.CHAT else kind
        request, dropped = _request(
            session,
            tree,
            tree.path(prompt.id),
            model_id=model_id,
            name=name,
            user=_end_user(session, user),
            augmented=retrieved.prompt if retrieved is not None else None,
        )
        billing = _billing(
            context, session, user, request, kind=kind, provider=provider, model=name, conversation_id=conversation_id
        )
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
        billing=billing,
        warning=warning,
    )


def _grounded_again(session: Session, prompt: ChatMessage, answer: ChatMessage) -> str | None:
    """The prompt with the sources `answer` was given (None for an answer without documents), so a
    regenerated or continued answer sees the same passages; nothing is searched again."""
    if answer.citations is None:
        return None
    from mai_tui.core.knowledge.rag import build_prompt, load_citations, parse_references

    question = parse_references(session, prompt.content).question or prompt.content
    return build_prompt(question, load_citations(answer.citations))


def _end_user(session: Session, user: User) -> str:
    """What OpenRouter's `user` field carries: the paying org and the user (`acme/alice`)."""
    return f"{payer(session, user).name}/{user.name}"


@dataclass
class _Existing:
    """A turn on an existing conversation, being prepared inside one session."""

    context: AppContext
    session: Session
    tree: trees.Tree
    name: str  # provider/model
    provider: str
    model_id: str
    user: User
    warning: str | None

    def request(
        self, path: list[ChatMessage], extra: list[Message] | None = None, augmented: str | None = None
    ) -> tuple[ChatRequest, int]:
        end_user = _end_user(self.session, self.user)
        return _request(
            self.session,
            self.tree,
            path,
            model_id=self.model_id,
            name=self.name,
            user=end_user,
            extra=extra,
            augmented=augmented,
        )

    def billing(self, kind: CallKind, request: ChatRequest) -> Billing:
        conversation_id = self.tree.conversation.id or 0
        return _billing(
            self.context,
            self.session,
            self.user,
            request,
            kind=kind,
            provider=self.provider,
            model=self.name,
            conversation_id=conversation_id,
        )


@contextmanager
def _existing(
    context: AppContext, conversation_id: int, model: str | None, *, override_budget: bool
) -> Iterator[_Existing]:
    """For a turn on an existing conversation: the session, tree, model, user, and any warning."""
    name, provider, model_id = resolve_model(context, model)
    with context.session() as session:
        user = context.current_user(session)
        warning = _admit(context, session, user, provider, override_budget=override_budget)
        tree = trees.load(session, conversation_id, user=user)
        yield _Existing(context, session, tree, name, provider, model_id, user, warning)


def prepare_regenerate(
    context: AppContext, conversation_id: int, *, model: str | None = None, override_budget: bool = False
) -> Turn:
    """A fresh answer to the last prompt, beside the current one."""
    with _existing(context, conversation_id, model, override_budget=override_budget) as call:
        tree = call.tree
        last_answer = next((m for m in reversed(tree.path()) if m.role == "assistant"), None)
        if last_answer is None or last_answer.parent_id is None:
            raise InvalidInput(_("there is no answer to regenerate"))
        prompt = tree.by_id(last_answer.parent_id)
        previous_leaf = tree.conversation.current_leaf_id
        augmented = _grounded_again(call.session, prompt, last_answer)
        answer = trees.regenerate(call.session, tree, last_answer.id or 0, model=call.name, provider=call.provider)
        if augmented is not None:  # an answer from documents: the new one gets the same sources
            answer.citations = last_answer.citations
            call.session.add(answer)
        request, dropped = call.request(tree.path(prompt.id), augmented=augmented)
        billing = call.billing(CallKind.REGENERATE, request)
    return Turn(
        conversation_id,
        prompt,
        answer,
        request,
        call.name,
        call.provider,
        dropped,
        previous_leaf=previous_leaf,
        created=(answer.id or 0,),
        billing=billing,
        warning=call.warning,
    )


def prepare_continue(
    context: AppContext, conversation_id: int, *, model: str | None = None, override_budget: bool = False
) -> Turn:
    """Ask the model to carry on a cut-off last answer; the continuation is appended to it."""
    with _existing(context, conversation_id, model, override_budget=override_budget) as call:
        path = call.tree.path()
        if not path or path[-1].role != "assistant" or path[-1].parent_id is None:
            raise InvalidInput(_("there is no answer to continue"))
        answer = trees.resume(call.session, call.tree, path[-1].id or 0)
        prompt = call.tree.by_id(answer.parent_id or 0)
        augmented = _grounded_again(call.session, prompt, answer)
        request, dropped = call.request(path, extra=[Message("user", CONTINUE_INSTRUCTION)], augmented=augmented)
        billing = call.billing(CallKind.CONTINUE, request)
        prefix = answer.content
    return Turn(
        conversation_id,
        prompt,
        answer,
        request,
        call.name,
        call.provider,
        dropped,
        prefix=prefix,
        billing=billing,
        warning=call.warning,
    )


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


def total_cost(session: Session, conversation_id: int) -> Decimal:
    """What the conversation's calls were billed (markup included), in USD, from the ledger."""
    total = session.exec(
        select(func.sum(LedgerEntry.billed_cost_usd)).where(LedgerEntry.conversation_id == conversation_id)
    ).one()
    return total if total is not None else Decimal(0)
