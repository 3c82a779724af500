"""Comparing models against a fake OpenRouter: one prompt, three answers side by side as
siblings, each with its own tokens, cost and ledger row; choosing one continues from it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal

import pytest
from sqlmodel import col, select

from mai_tui.core.chat import tree as trees
from mai_tui.core.chat.compare import choose, discard_compare, prepare_compare
from mai_tui.core.chat.streaming import Outcome, stream_into
from mai_tui.core.chat.turns import Turn, prepare_turn
from mai_tui.core.context import AppContext, load_context
from mai_tui.core.errors import InvalidInput
from mai_tui.core.providers.registry import Providers
from mai_tui.core.store.models import ChatMessage, Conversation, LedgerEntry
from mai_tui.core.usage import ledger
from tests.fakes.server import Dynamic, FakeServer, RecordedRequest, Reply, Status, Stream
from tests.fakes.wire import openrouter_chunks

ROUTE = "/api/v1/chat/completions"
MINI = "openrouter/openai/gpt-4o-mini"
HAIKU = "openrouter/anthropic/claude-3.5-haiku"
FLASH = "openrouter/google/gemini-2.0-flash"
MODELS = [MINI, HAIKU, FLASH]


def answer(text: str, cost: str, generation: str, prompt_tokens: int = 12) -> Stream:
    return Stream(openrouter_chunks([text], id=generation, cost=cost, usage={"prompt_tokens": prompt_tokens}))


def by_model(replies: Mapping[str, Reply]) -> Dynamic:
    """The fake answers each model with its own reply (the request names the model)."""

    def reply(request: RecordedRequest) -> Reply:
        return replies[request.json()["model"]]

    return Dynamic(reply)


THREE = {
    "openai/gpt-4o-mini": answer("Mini says hi.", "0.00001", "gen-compare-mini", 10),
    "anthropic/claude-3.5-haiku": answer("Haiku says hi.", "0.00002", "gen-compare-haiku", 11),
    "google/gemini-2.0-flash": answer("Flash says hi.", "0.00003", "gen-compare-flash", 13),
}


@pytest.fixture
def context(database_url: str, openrouter: FakeServer) -> AppContext:
    return load_context()


def stream_all(context: AppContext, turns: list[Turn]) -> list[Outcome]:
    """Stream every answer at once, as the compare screen does."""

    async def run() -> list[Outcome]:
        providers = Providers(context.settings, context.secrets)
        providers.get("openrouter").retry.attempts = 1  # a failure is shown, not retried
        try:
            return list(
                await asyncio.gather(
                    *(
                        stream_into(
                            context,
                            providers.get(t.provider),
                            t.request,
                            t.answer.id or 0,
                            billing=t.billing,
                        )
                        for t in turns
                    )
                )
            )
        finally:
            await providers.aclose()

    return asyncio.run(run())


def messages(context: AppContext) -> list[ChatMessage]:
    with context.session(write=False) as session:
        return list(session.exec(select(ChatMessage).order_by(col(ChatMessage.id))).all())


def rows(context: AppContext) -> list[LedgerEntry]:
    with context.session(write=False) as session:
        return list(session.exec(select(LedgerEntry).order_by(col(LedgerEntry.id))).all())


def test_three_answers_are_siblings_each_with_its_own_tokens_cost_and_ledger_row(
    context: AppContext, openrouter: FakeServer
) -> None:
    openrouter.route("POST", ROUTE, by_model(THREE))
    turns = prepare_compare(context, "Say hi", conversation_id=None, models=MODELS)
    assert [t.model for t in turns] == MODELS
    assert len({t.prompt.id for t in turns}) == 1  # one prompt for all three
    stream_all(context, turns)

    prompt, *answers = messages(context)
    assert (prompt.role, prompt.content, prompt.parent_id) == ("user", "Say hi", None)
    assert [a.parent_id for a in answers] == [prompt.id] * 3  # siblings under the prompt
    assert [(a.model, a.provider) for a in answers] == [(m, "openrouter") for m in MODELS]
    assert [a.content for a in answers] == ["Mini says hi.", "Haiku says hi.", "Flash says hi."]
    assert [a.status for a in answers] == ["complete"] * 3
    assert [a.prompt_tokens for a in answers] == [10, 11, 13]
    assert [a.cost_usd for a in answers] == [Decimal("0.00001"), Decimal("0.00002"), Decimal("0.00003")]

    ledger_rows = rows(context)
    assert [r.kind for r in ledger_rows] == ["compare"] * 3
    assert {r.message_id: r.model for r in ledger_rows} == {a.id: a.model for a in answers}
    assert sorted(r.raw_cost_usd for r in ledger_rows) == [Decimal("0.00001"), Decimal("0.00002"), Decimal("0.00003")]
    assert sorted(r.generation_id or "" for r in ledger_rows) == [
        "gen-compare-flash",
        "gen-compare-haiku",
        "gen-compare-mini",
    ]
    assert {r.conversation_id for r in ledger_rows} == {turns[0].conversation_id}
    with context.session(write=False) as session:
        assert ledger.rollup_mismatches(session) == {}
        tree = trees.load(session, turns[0].conversation_id)
        assert tree.conversation.current_leaf_id == answers[0].id  # the first model's until one is chosen
        assert tree.branch(answers[1]) == trees.Branch(2, 3)

    sent = [r.json() for r in openrouter.requests]
    assert sorted(body["model"] for body in sent) == sorted(m.removeprefix("openrouter/") for m in MODELS)
    assert all(body["messages"] == [{"role": "user", "content": "Say hi"}] for body in sent)


@pytest.mark.parametrize("status", [429, 500])
def test_one_model_failing_leaves_the_others_complete(context: AppContext, openrouter: FakeServer, status: int) -> None:
    failing = Status(status, {"error": {"message": "the upstream model is unavailable", "code": status}})
    openrouter.route("POST", ROUTE, by_model({**THREE, "anthropic/claude-3.5-haiku": failing}))
    turns = prepare_compare(context, "Say hi", conversation_id=None, models=MODELS)
    outcomes = stream_all(context, turns)

    assert [o.status.value for o in outcomes] == ["complete", "error", "complete"]
    _prompt, mini, haiku, flash = messages(context)
    assert (mini.content, flash.content) == ("Mini says hi.", "Flash says hi.")
    assert (haiku.status, haiku.content) == ("error", "")
    assert haiku.error
    assert haiku.error_kind == ("rate_limited" if status == 429 else "server_error")
    assert sorted(r.message_id or 0 for r in rows(context)) == [mini.id, flash.id]  # nothing used: nothing billed


def test_choosing_an_answer_continues_the_conversation_from_it(context: AppContext, openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, by_model(THREE))
    turns = prepare_compare(context, "Say hi", conversation_id=None, models=MODELS)
    stream_all(context, turns)
    conversation_id = turns[0].conversation_id

    tree = choose(context, conversation_id, turns[1].answer.id or 0)
    assert [m.content for m in tree.path()] == ["Say hi", "Haiku says hi."]
    with context.session(write=False) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        assert conversation.current_leaf_id == turns[1].answer.id
        assert conversation.model == HAIKU  # the conversation goes on with the chosen model

    openrouter.route("POST", ROUTE, answer("Next answer.", "0.00004", "gen-next"))
    turn = prepare_turn(context, "And then?", conversation_id=conversation_id, model=HAIKU)
    assert turn.prompt.parent_id == turns[1].answer.id  # continues under the chosen answer
    assert [(m.role, m.content) for m in turn.request.messages] == [
        ("user", "Say hi"),
        ("assistant", "Haiku says hi."),
        ("user", "And then?"),
    ]
    with context.session(write=False) as session:
        tree = trees.load(session, conversation_id)
        siblings = tree.siblings(tree.by_id(turns[1].answer.id or 0))
        assert [s.id for s in siblings] == [t.answer.id for t in turns]  # the others stay as branches

    with pytest.raises(InvalidInput, match="only an answer"):
        choose(context, conversation_id, turns[0].prompt.id or 0)


def test_a_comparison_in_an_existing_conversation_follows_its_branch(
    context: AppContext, openrouter: FakeServer
) -> None:
    openrouter.route("POST", ROUTE, answer("First.", "0.00001", "gen-first"))
    first = prepare_turn(context, "Hello")
    stream_all(context, [first])
    openrouter.route("POST", ROUTE, by_model(THREE))
    turns = prepare_compare(context, "Say hi", conversation_id=first.conversation_id, models=[MINI, FLASH])
    assert turns[0].prompt.parent_id == first.answer.id
    assert [(m.role, m.content) for m in turns[1].request.messages] == [
        ("user", "Hello"),
        ("assistant", "First."),
        ("user", "Say hi"),
    ]


def test_a_model_without_a_key_is_refused_before_anything_is_written(
    context: AppContext, openrouter: FakeServer
) -> None:
    with pytest.raises(InvalidInput, match="no API key for anthropic"):
        prepare_compare(context, "Say hi", conversation_id=None, models=[MINI, "anthropic/claude-sonnet-4"])
    assert messages(context) == []
    with context.session(write=False) as session:
        assert session.exec(select(Conversation)).all() == []
    assert openrouter.requests == []


@pytest.mark.parametrize(
    ("models", "problem"),
    [
        ([MINI], "compare needs 2 to 3 different models, not 1"),
        ([MINI, HAIKU, FLASH, "openrouter/x/y"], "compare needs 2 to 3 different models, not 4"),
        ([MINI, MINI], "listed twice"),
        ([MINI, ""], "not 1"),
    ],
)
def test_two_or_three_different_models(context: AppContext, models: list[str], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        prepare_compare(context, "Say hi", conversation_id=None, models=models)
    assert messages(context) == []


def test_discarding_takes_back_what_got_nothing(context: AppContext, openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, answer("First.", "0.00001", "gen-first"))
    first = prepare_turn(context, "Hello")
    stream_all(context, [first])
    conversation_id = first.conversation_id

    turns = prepare_compare(context, "Say hi", conversation_id=conversation_id, models=MODELS)
    discard_compare(context, turns, [turns[0].answer.id or 0])  # only the first got nothing
    with context.session(write=False) as session:
        tree = trees.load(session, conversation_id)
        assert [m.id for m in tree.messages][-2:] == [turns[1].answer.id, turns[2].answer.id]
        assert tree.conversation.current_leaf_id == turns[1].answer.id  # the shown one had gone

    discard_compare(context, turns[1:])  # the rest got nothing either: the prompt goes too
    assert [m.content for m in messages(context)] == ["Hello", "First."]
    with context.session(write=False) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        assert conversation.current_leaf_id == first.answer.id  # shows again what it showed before

    fresh = prepare_compare(context, "Say hi", conversation_id=None, models=[MINI, HAIKU])
    discard_compare(context, fresh)
    with context.session(write=False) as session:
        assert [c.id for c in session.exec(select(Conversation)).all()] == [conversation_id]  # empty: deleted
