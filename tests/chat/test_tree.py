"""The conversation tree: regenerate, edit, branch switching, continue, and fitting history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from mai_tui.core.chat import tree as trees
from mai_tui.core.context import load_context
from mai_tui.core.store.models import ChatMessage, Conversation, MessageStatus


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    context = load_context()
    with context.session() as session:
        yield session


def answered(session: Session, tree: trees.Tree, message: ChatMessage, text: str) -> None:
    message.content = text
    message.status = MessageStatus.COMPLETE.value
    session.add(message)
    session.flush()


def start(session: Session) -> trees.Tree:
    user = load_context().current_user(session)
    conversation = Conversation(user_id=user.id, title="Q1")
    session.add(conversation)
    session.flush()
    tree = trees.load(session, conversation.id or 0)
    _prompt, answer = trees.add_prompt(session, tree, "Q1", model="openai/m", provider="openai", parent_id=None)
    answered(session, tree, answer, "A1")
    return tree


def contents(tree: trees.Tree) -> list[str]:
    return [m.content for m in tree.path()]


def test_regenerate_adds_a_sibling_and_switching_walks_between_them(session: Session) -> None:
    tree = start(session)
    first_answer = tree.path()[-1]
    second = trees.regenerate(session, tree, first_answer.id or 0, model="openai/m", provider="openai")
    answered(session, tree, second, "A1 again")
    assert contents(tree) == ["Q1", "A1 again"]
    assert tree.branch(second) == trees.Branch(2, 2)
    trees.switch_branch(session, tree, second.id or 0, -1)
    assert contents(tree) == ["Q1", "A1"]
    assert tree.branch(tree.path()[-1]) == trees.Branch(1, 2)
    trees.switch_branch(session, tree, first_answer.id or 0, -1)  # already first: stays
    assert contents(tree) == ["Q1", "A1"]


def test_editing_a_prompt_branches_and_switching_lands_on_the_latest_leaf(session: Session) -> None:
    tree = start(session)
    q1 = tree.path()[0]
    _p2, a2 = trees.add_prompt(session, tree, "Q2", model="openai/m", provider="openai", parent_id=tree.path()[-1].id)
    answered(session, tree, a2, "A2")
    assert contents(tree) == ["Q1", "A1", "Q2", "A2"]
    edited, answer = trees.edit_prompt(session, tree, q1.id or 0, "Q1 edited", model="openai/m", provider="openai")
    answered(session, tree, answer, "A1'")
    assert contents(tree) == ["Q1 edited", "A1'"]
    assert tree.branch(edited) == trees.Branch(2, 2)
    trees.switch_branch(session, tree, edited.id or 0, -1)
    assert contents(tree) == ["Q1", "A1", "Q2", "A2"]  # back to where that branch had got to


def test_only_the_right_roles_can_be_regenerated_edited_or_continued(session: Session) -> None:
    tree = start(session)
    prompt, answer = tree.path()
    with pytest.raises(Exception, match="only an answer"):
        trees.regenerate(session, tree, prompt.id or 0, model="m", provider="p")
    with pytest.raises(Exception, match="only a prompt"):
        trees.edit_prompt(session, tree, answer.id or 0, "x", model="m", provider="p")
    with pytest.raises(Exception, match="only an answer"):
        trees.resume(session, tree, prompt.id or 0)


def test_continue_reopens_the_cut_off_answer(session: Session) -> None:
    tree = start(session)
    answer = tree.path()[-1]
    answer.status = MessageStatus.CANCELLED.value
    resumed = trees.resume(session, tree, answer.id or 0)
    assert resumed.status == MessageStatus.STREAMING.value
    assert tree.conversation.current_leaf_id == answer.id


def test_the_tree_persists(session: Session) -> None:
    tree = start(session)
    trees.regenerate(session, tree, tree.path()[-1].id or 0, model="openai/m", provider="openai")
    session.commit()
    again = trees.load(session, tree.conversation.id or 0)
    assert [m.content for m in again.path()] == ["Q1", ""]
    assert len(again.messages) == 3


def message(role: str, content: str, status: str = "complete") -> ChatMessage:
    return ChatMessage(conversation_id=1, role=role, content=content, status=status)


def test_fit_history_drops_the_oldest_turns_and_says_how_many() -> None:
    path = [
        message("user", "a" * 700),
        message("assistant", "b" * 700),
        message("user", "c" * 700),
        message("assistant", "d" * 700),
        message("user", "latest question"),
    ]
    everything = trees.fit_history(path, system="be brief", context_length=None)
    assert (len(everything.turns), everything.dropped) == (5, 0)
    fitted = trees.fit_history(path, system="be brief", context_length=1024 + 450, reserve=1024)
    assert fitted.dropped == 2
    assert [t.content[0] for t in fitted.turns] == ["c", "d", "l"]
    assert fitted.turns[0].role == "user"


def test_failed_and_empty_answers_are_not_sent_back() -> None:
    path = [message("user", "q"), message("assistant", "partial", status="error"), message("user", "again")]
    assert [t.content for t in trees.fit_history(path, system=None, context_length=None).turns] == ["q", "again"]


def test_a_provider_cost_with_float_noise_is_stored_rounded(session: Session) -> None:
    from decimal import Decimal

    from mai_tui.core.chat.conversations import save_answer
    from mai_tui.core.providers.events import Answer, Usage

    tree = start(session)
    answer_message = tree.path()[-1]
    answer = Answer()
    answer.apply(Usage(prompt_tokens=1, completion_tokens=1, cost_usd=Decimal("0.00020999999999999998")))
    answer_message.error = "interrupted"
    save_answer(session, answer_message.id or 0, answer, status=MessageStatus.COMPLETE)
    session.flush()
    session.expire_all()
    stored = session.get(ChatMessage, answer_message.id)
    assert stored is not None
    assert stored.cost_usd == Decimal("0.00021")
    assert stored.error is None  # a clean finish clears a stale "interrupted"


async def test_a_silent_stream_still_shows_it_is_alive(openrouter: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only keep-alives for a long time: `updated_at` keeps moving, so no other instance closes it."""
    import asyncio
    import threading

    from mai_tui.core.chat import streaming
    from mai_tui.core.chat.turns import prepare_turn
    from mai_tui.core.providers.registry import Providers
    from tests.fakes.server import FakeServer, Stream
    from tests.fakes.wire import openrouter_chunks

    assert isinstance(openrouter, FakeServer)
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.05)
    hold = threading.Event()
    openrouter.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["x"])[:1], hold_open=hold))
    context = load_context()
    turn = prepare_turn(context, "think hard")
    task = asyncio.create_task(
        streaming.stream_into(
            context, Providers(context.settings, context.secrets).get(turn.provider), turn.request, turn.answer.id or 0
        )
    )

    def updated() -> object:
        with context.session(write=False) as session:
            message = session.get(ChatMessage, turn.answer.id)
            return message.updated_at if message else None

    first = updated()
    for _ in range(200):
        await asyncio.sleep(0.05)
        if updated() != first:
            break
    assert updated() != first
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
