"""Comparing models: one prompt goes to two or three models at once, each answer is stored as a
sibling under that prompt (its own model, tokens, cost and ledger row), and the user chooses
the one the conversation continues from; the others stay in the tree as branches (◀ ▶).

Each answer is streamed like any other (`streaming.stream_into` with the turn's `billing`);
this module only prepares the turns, chooses, and takes back what got nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from mai_tui.core.chat import tree as trees
from mai_tui.core.chat.conversations import title_from
from mai_tui.core.chat.turns import Turn, _admit, _billing, _end_user, _request, discard_turn, resolve_model
from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput
from mai_tui.core.store.models import CallKind, Conversation
from mai_tui.i18n import _

MIN_MODELS = 2
MAX_MODELS = 3


def _validated(context: AppContext, models: Sequence[str]) -> list[tuple[str, str, str]]:
    """(full name, provider, provider's model id) of each model, or InvalidInput naming the problem."""
    names = [model.strip() for model in models if model.strip()]
    resolved = [resolve_model(context, name) for name in names]
    seen: set[str] = set()
    for name, _provider, _model_id in resolved:
        if name in seen:
            raise InvalidInput(_("{model} is listed twice: compare different models").format(model=name))
        seen.add(name)
    if not MIN_MODELS <= len(resolved) <= MAX_MODELS:
        raise InvalidInput(
            _("compare needs {low} to {high} different models, not {n}").format(
                low=MIN_MODELS, high=MAX_MODELS, n=len(resolved)
            )
        )
    return resolved


def prepare_compare(
    context: AppContext,
    text: str,
    *,
    conversation_id: int | None,
    models: Sequence[str],
    override_budget: bool = False,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> list[Turn]:
    """Save one prompt and an empty answer per model (siblings under it); one turn per model.

    Every model is admitted (role, key, budget) before anything is written: if one of them
    cannot be called, nothing is saved. Each turn has its own request (the same history, fitted
    to its model's context) and its own billing (`CallKind.COMPARE`), so each answer gets its
    own ledger row. The conversation shows the first model's answer until `choose` says
    otherwise. Without `conversation_id` a new conversation is started (with `system`,
    `temperature` and `max_tokens`).
    """
    if not text.strip():
        raise InvalidInput(_("nothing to ask: give a prompt or pipe text in"))
    resolved = _validated(context, models)
    with context.session() as session:
        user = context.current_user(session)
        warnings: list[str] = []
        for _name, provider, _model_id in resolved:
            warning = _admit(context, session, user, provider, override_budget=override_budget)
            if warning and warning not in warnings:
                warnings.append(warning)
        first_name, first_provider, _first_id = resolved[0]
        if conversation_id is None:
            conversation = Conversation(
                user_id=user.id,
                title=title_from(text),
                model=first_name,
                system_prompt=system,
                temperature=temperature,
                max_tokens=max_tokens,
            )
            session.add(conversation)
            session.flush()
            assert conversation.id is not None
            conversation_id = conversation.id
        tree = trees.load(session, conversation_id, user=user)
        previous_leaf = tree.conversation.current_leaf_id
        prompt, first = trees.add_prompt(
            session, tree, text, model=first_name, provider=first_provider, parent_id=previous_leaf
        )
        answers = [first]
        answers += [trees._new_answer(session, tree, prompt, name, provider) for name, provider, _id in resolved[1:]]
        trees._set_leaf(session, tree, first)
        end_user = _end_user(session, user)
        history = tree.path(prompt.id)
        turns: list[Turn] = []
        for answer, (name, provider, model_id) in zip(answers, resolved, strict=True):
            request, dropped = _request(session, tree, history, model_id=model_id, name=name, user=end_user)
            billing = _billing(
                context,
                session,
                user,
                request,
                kind=CallKind.COMPARE,
                provider=provider,
                model=name,
                conversation_id=conversation_id,
            )
            turns.append(
                Turn(
                    conversation_id,
                    prompt,
                    answer,
                    request,
                    name,
                    provider,
                    dropped,
                    previous_leaf=previous_leaf,
                    created=(answer.id or 0,),  # the shared prompt goes with `discard_compare`
                    billing=billing,
                    warning="\n".join(warnings) or None,
                )
            )
    return turns


def choose(context: AppContext, conversation_id: int, answer_id: int) -> trees.Tree:
    """Continue the conversation from this answer: it becomes the current branch, and the
    conversation's model becomes the one that wrote it. The other answers stay as siblings."""
    with context.session() as session:
        tree = trees.load(session, conversation_id, user=context.current_user(session))
        answer = tree.by_id(answer_id)
        if answer.role != "assistant":
            raise InvalidInput(_("only an answer can be chosen"))
        trees._set_leaf(session, tree, tree.latest_leaf(answer))
        if answer.model:
            tree.conversation.model = answer.model
            session.add(tree.conversation)
        return tree


def discard_compare(context: AppContext, turns: Sequence[Turn], answer_ids: Collection[int] | None = None) -> None:
    """Take back the answers of a comparison that got nothing (stopped before their first token):
    `answer_ids`, or all of them. When none is left, the prompt goes too and the conversation
    shows again what it showed before (a conversation left empty is deleted, as `discard_turn`)."""
    if not turns:
        return
    gone = {t.answer.id or 0 for t in turns} if answer_ids is None else set(answer_ids)
    kept = [t for t in turns if (t.answer.id or 0) not in gone]
    if not kept:
        first = turns[0]
        created = (first.prompt.id or 0, *(t.answer.id or 0 for t in turns))
        discard_turn(context, replace(first, created=created))
        return
    with context.session() as session:
        tree = trees.load(session, kept[0].conversation_id)
        for turn in turns:
            if (turn.answer.id or 0) in gone:
                session.delete(tree.by_id(turn.answer.id or 0))
        session.flush()
        if tree.conversation.current_leaf_id in gone:
            trees._set_leaf(session, tree, tree.by_id(kept[0].answer.id or 0))
