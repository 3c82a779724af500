"""The chat screen against a fake OpenRouter: send, stream, stop, errors, untrusted output."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Button, Input, Markdown, Static, TextArea

from mai_tui.core.chat import tree as trees
from mai_tui.core.chat.conversations import close_interrupted
from mai_tui.core.context import load_context
from mai_tui.core.store.models import ChatMessage, Conversation
from mai_tui.core.store.types import utcnow
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.widgets.conversations import ConversationList
from mai_tui.tui.widgets.message import MessageView
from mai_tui.tui.widgets.prompt import PromptBox
from tests.fakes.server import FakeServer, Replay, Status, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import steady_cursor, wait_until

ROUTE = "/api/v1/chat/completions"


def stored() -> list[ChatMessage]:
    with load_context().session(write=False) as session:
        return list(session.exec(select(ChatMessage).order_by(ChatMessage.id)).all())  # type: ignore[arg-type]


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)


async def send(pilot: Pilot[Any], text: str) -> None:
    box = pilot.app.screen.query_one(PromptBox)
    box.load_text(text)
    box.focus()
    await pilot.press("enter")


def steady_times(app: Any) -> None:
    """Show a fixed answer time and a steady cursor: wall-clock time would make a snapshot flaky."""
    steady_cursor(app)
    for view in app.screen.query(MessageView):
        if view.message.duration_ms is not None:
            view.message.duration_ms = 1500
            view.refresh_meta()


def seed_chain(count: int, text: Callable[[int], str]) -> int:
    """A stored conversation of `count` alternating prompts and answers; returns its id."""
    context = load_context()
    with context.session() as session:
        user = context.current_user(session)
        conversation = Conversation(user_id=user.id, title="seeded")
        session.add(conversation)
        session.flush()
        parent = None
        for index in range(count):
            message = ChatMessage(
                conversation_id=conversation.id or 0,
                parent_id=parent,
                role="user" if index % 2 == 0 else "assistant",
                content=text(index),
            )
            session.add(message)
            session.flush()
            parent = message.id
        conversation.current_leaf_id = parent
        return conversation.id or 0


def bodies(app: MaiApp) -> list[str]:
    return [view.message.content for view in app.screen.query(MessageView)]


async def test_a_prompt_streams_its_answer_and_both_are_saved(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["Hello", " from", " the fake."], cost="0.00002415")))
    messages: list[Message] = []
    app = MaiApp()
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ready(pilot)
        await send(pilot, "Say hello")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await wait_until(pilot, lambda: "from the fake" in " ".join(bodies(app)))
        assert any(isinstance(m, PromptBox.Submitted) and m.text == "Say hello" for m in messages)
        assert app.screen.query_one(PromptBox).text == ""
        meta = str(app.screen.query(MessageView).last().query_one(".meta", Static).render())
        assert "$0.00002415" in meta  # what the provider charged for this answer
        assert "$0.000031395" in app.sub_title  # the conversation so far, billed with the org's 1.3 markup
    prompt, answer = stored()
    assert (prompt.content, answer.content) == ("Say hello", "Hello from the fake.")
    assert answer.generation_id == "gen-1764926476-0N0195qHFzGljvYKVijc"


async def test_escape_before_any_text_gives_the_prompt_back(openrouter: FakeServer) -> None:
    never = threading.Event()
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["late"]), first_byte_delay=never))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "A question I regret")
        await wait_until(pilot, lambda: len(openrouter.requests) == 1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.query_one(PromptBox).text == "A question I regret")
        assert not app.screen.query(MessageView)
    assert stored() == []
    with load_context().session(write=False) as session:
        assert session.exec(select(Conversation)).all() == []


async def test_escape_mid_stream_keeps_the_partial_answer(openrouter: FakeServer) -> None:
    hold = threading.Event()
    chunks = openrouter_chunks(["Half", " way"])[:4]
    openrouter.route("POST", ROUTE, Stream(chunks, hold_open=hold))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "Tell me everything")
        await wait_until(
            pilot,
            lambda: "Half way" in "".join(str(v.query_one(Markdown).source) for v in app.screen.query(MessageView)),
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["cancelled"])
        assert app.screen.query_one(PromptBox).text == ""
    assert [m.content for m in stored()] == ["Tell me everything", "Half way"]


async def test_a_provider_error_is_a_readable_line_in_the_conversation(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, Replay("openrouter/error_402_insufficient_credits.from_issue.json"))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "hello")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["error"])
        await wait_until(
            pilot,
            lambda: "out of credits" in str(app.screen.query(MessageView).last().query_one(".meta", Static).render()),
        )


async def test_escape_sequences_in_an_answer_are_shown_inert(openrouter: FakeServer) -> None:
    hostile = ["Innocent ", "\x1b]0;pwned\x07", "\x1b[2J", "text"]
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(hostile)))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "hi")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await pilot.pause()
        source = str(app.screen.query(MessageView).last().query_one(Markdown).source)
        assert "\x1b" not in source
        assert "\x07" not in source
        assert "␛]0;pwned␇" in source
    assert stored()[-1].content == "Innocent \x1b]0;pwned\x07\x1b[2Jtext"  # stored as received; shown inert


async def test_opening_a_conversation_shows_its_active_branch(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["First answer"])), Stream(openrouter_chunks(["Redo"])))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "Question")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        context = load_context()
        with context.session() as session:
            tree = trees.load(session, stored()[0].conversation_id)
            answer = trees.regenerate(session, tree, tree.path()[-1].id or 0, model="m", provider="openrouter")
            answer.content, answer.status = "Second answer", "complete"
            session.add(answer)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.screen.query(MessageView))
        await app.on_chat_screen_open(ChatScreen.Open(stored()[0].conversation_id))
        await wait_until(pilot, lambda: bodies(app) == ["Question", "Second answer"])
        labels = [str(v.query_one(".who", Static).render()) for v in app.screen.query(MessageView)]
        assert labels[1].endswith("◀ 2/2 ▶")


def test_answers_left_streaming_by_a_killed_process_are_closed() -> None:
    context = load_context()
    with context.session() as session:
        user = context.current_user(session)
        conversation = Conversation(user_id=user.id, title="t")
        session.add(conversation)
        session.flush()
        old = ChatMessage(
            conversation_id=conversation.id or 0,
            role="assistant",
            content="partial",
            status="streaming",
            updated_at=utcnow().replace(year=2025),
        )
        live = ChatMessage(conversation_id=conversation.id or 0, role="assistant", content="live", status="streaming")
        session.add_all([old, live])
        session.flush()
        assert close_interrupted(session) == 1
        assert (old.status, old.content) == ("cancelled", "partial")
        assert live.status == "streaming"  # another running instance may still be writing it


def test_chat_screen_snapshot(snap_compare: Any, openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["# A heading\n\nSome **bold** text.\n\n- one\n- two"])))

    async def converse(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await send(pilot, "Show me markdown")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await wait_until(pilot, lambda: "$" in str(pilot.app.sub_title))
        steady_times(pilot.app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=converse)


def labels(app: MaiApp) -> list[str]:
    return [str(v.query_one(".who", Static).render()) for v in app.screen.query(MessageView)]


async def test_regenerate_branches_edit_continue_and_copy_from_the_keyboard(openrouter: FakeServer) -> None:
    cut_off = openrouter_chunks(["Cut"])[:3]
    openrouter.route(
        "POST",
        ROUTE,
        Stream(openrouter_chunks(["First"])),
        Stream(openrouter_chunks(["Second"])),
        Stream(openrouter_chunks(["Edited answer"])),
        Stream(cut_off, drop_after=len(cut_off)),
        Stream(openrouter_chunks([" and the rest."])),
    )
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "Question")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])

        await pilot.press("ctrl+r")  # regenerate: a sibling answer
        await wait_until(pilot, lambda: bodies(app) == ["Question", "Second"] and stored()[-1].status == "complete")
        assert labels(app)[1].endswith("◀ 2/2 ▶")
        await pilot.press("alt+left")
        await wait_until(pilot, lambda: bodies(app) == ["Question", "First"])
        await pilot.press("alt+right")
        await wait_until(pilot, lambda: bodies(app) == ["Question", "Second"])

        await pilot.press("alt+c")  # copy the answer (OSC 52)
        assert app.clipboard == "Second"

        await pilot.press("ctrl+up")  # edit the prompt into a new branch
        assert app.screen.query_one(PromptBox).text == "Question"
        box = app.screen.query_one(PromptBox)
        box.load_text("Question, rephrased")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: bodies(app) == ["Question, rephrased", "Edited answer"] and stored()[-1].status == "complete"
        )
        assert labels(app)[0].endswith("◀ 2/2 ▶")

        await send(pilot, "Go on")  # this answer breaks off
        await wait_until(pilot, lambda: stored()[-1].status == "error")
        assert stored()[-1].content == "Cut"
        await pilot.press("ctrl+t")  # continue it
        await wait_until(pilot, lambda: stored()[-1].status == "complete")
        assert stored()[-1].content == "Cut and the rest."
        continued = openrouter.requests[-1].json()["messages"]
        assert continued[-2] == {"role": "assistant", "content": "Cut"}
        assert continued[-1]["role"] == "user"
    tree_sizes = len(stored())
    assert tree_sizes == 7  # Q, First, Second, Q', Edited, Go on, Cut… (continued in place)


async def test_model_picker_filters_and_sets_the_conversation_model(openrouter: FakeServer) -> None:
    openrouter.route("GET", "/api/v1/models", Replay("openrouter/models_2025-04.json"))
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["ok"])))
    from mai_tui.core.providers import catalogue
    from mai_tui.core.providers.registry import Providers

    context = load_context()
    for listing in await catalogue.fetch(Providers(context.settings, context.secrets), ["openrouter"]):
        with context.session() as session:
            catalogue.store(session, listing)
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ModelPicker")
        await pilot.press(*"claude35sonnet")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.model is not None)
        assert app.model is not None
        assert app.model.startswith("openrouter/anthropic/claude-3.5-sonnet")
        assert app.model in app.sub_title
        await send(pilot, "hello")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
    assert openrouter.requests[-1].json()["model"] == app.model.removeprefix("openrouter/")


async def test_a_long_conversation_mounts_only_its_newest_messages(openrouter: FakeServer) -> None:
    conversation_id = seed_chain(1000, lambda index: f"message {index}")
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await app.on_chat_screen_open(ChatScreen.Open(conversation_id))
        await wait_until(pilot, lambda: len(app.screen.query(MessageView)) == ChatScreen.WINDOW)
        assert bodies(app)[-1] == "message 999"
        assert "950 earlier messages" in str(app.screen.query_one("#earlier", Static).render())
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: len(app.screen.query(MessageView)) == 2 * ChatScreen.WINDOW)
        assert bodies(app)[0] == "message 900"


async def test_enter_can_be_a_newline_when_configured(openrouter: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from mai_tui.locations import Paths

    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('send_on_enter = false\n[keymap]\n"chat.stop" = "ctrl+x"\n')
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["two lines received"])))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        box = app.screen.query_one(PromptBox)
        box.focus()
        await pilot.press(*"line one", "enter", *"line two")
        assert box.text == "line one\nline two"
        await pilot.press("ctrl+j")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
    assert stored()[0].content == "line one\nline two"


async def test_conversation_settings_reach_the_request(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["First"])), Stream(openrouter_chunks(["Second"])))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f2")  # before the first message: applies to the new conversation
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ParametersScreen")
        app.screen.query_one("#system", TextArea).load_text("Answer like a pirate.")
        app.screen.query_one("#temperature", Input).value = "3"
        app.screen.query_one("#save", Button).press()
        await pilot.pause()
        assert "temperature must be a number from 0 to 2" in str(app.screen.query_one("#problem", Static).render())
        app.screen.query_one("#temperature", Input).value = "0.2"
        app.screen.query_one("#max_tokens", Input).value = "300"
        app.screen.query_one("#save", Button).press()
        await pilot.pause()
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await send(pilot, "Hello")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        body = openrouter.requests[-1].json()
        assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
        assert (body["temperature"], body["max_tokens"]) == (0.2, 300)

        await pilot.press("f2")  # now it edits the open conversation
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ParametersScreen")
        assert app.screen.query_one("#system", TextArea).text == "Answer like a pirate."
        app.screen.query_one("#system", TextArea).load_text("")
        app.screen.query_one("#save", Button).press()
        await pilot.pause()
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await send(pilot, "Again")
        await wait_until(pilot, lambda: len(stored()) == 4 and stored()[-1].status == "complete")
        assert openrouter.requests[-1].json()["messages"][0]["role"] == "user"


async def test_copy_the_last_code_block_and_a_retry_hint_on_errors(openrouter: FakeServer) -> None:
    answer = "Here:\n\n```python\nprint('hi')\n```\n\nand\n\n```sh\necho done\n```\n"
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks([answer])), Status(503, {"error": {"message": "busy"}}))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "code please")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await pilot.press("alt+k")
        assert app.clipboard == "echo done"
        app.providers.get("openrouter").retry.attempts = 1  # type: ignore[union-attr]
        await send(pilot, "again")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["error"])
        await wait_until(
            pilot,
            lambda: (
                "Ctrl+R to try again" in str(app.screen.query(MessageView).last().query_one(".meta", Static).render())
            ),
        )


async def test_every_chat_action_is_in_the_command_palette(openrouter: FakeServer) -> None:
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for expected in (
            "New chat",
            "Stop",
            "Regenerate",
            "Continue",
            "Edit prompt",
            "Copy answer",
            "Copy code",
            "Model",
            "Settings",
            "Chats",
            "Earlier messages",
            "Theme",
        ):
            assert expected in titles


def test_error_and_branches_snapshot(snap_compare: Any, openrouter: FakeServer) -> None:
    openrouter.route(
        "POST",
        ROUTE,
        Stream(openrouter_chunks(["One answer."])),
        Stream(openrouter_chunks(["Another answer."])),
        Replay("openrouter/error_402_insufficient_credits.from_issue.json"),
    )

    async def converse(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await send(pilot, "Question")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(stored()) == 3 and stored()[-1].status == "complete")
        await send(pilot, "And now?")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["error"])
        steady_times(pilot.app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 34), run_before=converse)


async def test_a_title_model_names_new_conversations(openrouter: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAI_TITLE_MODEL", "openrouter/small/model")
    openrouter.route(
        "POST",
        ROUTE,
        Stream(openrouter_chunks(["The answer."])),
        Stream(openrouter_chunks(["“Fixing A Leaky Tap.”\nextra line"])),
    )
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "my tap drips all night, what do I do")
        await wait_until(pilot, lambda: len(openrouter.requests) == 2)
        await wait_until(
            pilot,
            lambda: [c.title for c in app.screen.query_one(ConversationList).listed] == ["Fixing A Leaky Tap"],
        )
    title_request = openrouter.requests[1].json()
    assert title_request["model"] == "small/model"
    assert title_request["messages"][0]["role"] == "system"
    with load_context().session(write=False) as session:
        assert [c.title for c in session.exec(select(Conversation)).all()] == ["Fixing A Leaky Tap"]


def test_clean_title() -> None:
    from mai_tui.core.chat.titles import clean_title

    assert clean_title('"Budget Planning for 2027."') == "Budget Planning for 2027"
    assert clean_title("\n\n**Title**\nmore") == "Title"
    assert clean_title("") == ""
    assert len(clean_title("word " * 50)) == 80


async def test_pasting_several_lines_does_not_send(openrouter: FakeServer) -> None:
    from textual import events

    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        box = app.screen.query_one(PromptBox)
        box.focus()
        app.post_message(events.Paste("first line\nsecond line\n"))  # as the terminal driver does
        await pilot.pause()
        assert box.text == "first line\nsecond line\n"
        assert openrouter.requests == []


async def test_history_that_does_not_fit_is_trimmed_and_the_user_is_told(openrouter: FakeServer) -> None:
    from mai_tui.core.store.models import CatalogueEntry

    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["ok"])))
    context = load_context()
    with context.session() as session:
        session.add(
            CatalogueEntry(
                id="openrouter/openai/gpt-4o-mini",
                provider="openrouter",
                model="openai/gpt-4o-mini",
                context_length=1100,
            )
        )
    conversation_id = seed_chain(6, lambda index: f"{index} " + "x" * 200)
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await app.on_chat_screen_open(ChatScreen.Open(conversation_id))
        await send(pilot, "and now?")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        notice = str(app.screen.query_one("#notice", Static).render())
        assert "older messages left out to fit the model's context" in notice
    sent = openrouter.requests[-1].json()["messages"]
    assert sent[-1] == {"role": "user", "content": "and now?"}
    assert len(sent) < 7


def test_streaming_snapshot(snap_compare: Any, openrouter: FakeServer) -> None:
    hold = threading.Event()
    chunks = openrouter_chunks(["## Working on it\n\n", "1. first step\n", "2. second"])[:5]
    openrouter.route("POST", ROUTE, Stream(chunks, hold_open=hold))

    async def streaming(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await send(pilot, "Plan my day")
        await wait_until(
            pilot,
            lambda: (
                "2. second" in "".join(str(v.query_one(Markdown).source) for v in pilot.app.screen.query(MessageView))
            ),
        )
        steady_cursor(pilot.app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=streaming)


async def test_opening_another_chat_while_an_answer_streams_keeps_both(openrouter: FakeServer) -> None:
    """The answer goes on being written to its conversation in the background."""
    other = seed_chain(2, lambda index: f"old {index}")
    release = threading.Event()
    chunks = openrouter_chunks(["Background", " answer"])
    openrouter.route("POST", ROUTE, Stream(chunks, first_byte_delay=release))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "Long question")
        await wait_until(pilot, lambda: len(openrouter.requests) == 1)
        await app.on_chat_screen_open(ChatScreen.Open(other))
        await wait_until(pilot, lambda: bodies(app) == ["old 0", "old 1"])
        release.set()
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await pilot.pause()
        assert bodies(app) == ["old 0", "old 1"]  # the open conversation was not written into
    assert stored()[-1].content == "Background answer"


async def test_no_second_turn_while_an_answer_is_written(openrouter: FakeServer) -> None:
    never = threading.Event()
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["x"]), first_byte_delay=never))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "first")
        await wait_until(pilot, lambda: len(openrouter.requests) == 1)
        await send(pilot, "second")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.screen.query_one(PromptBox).text == "second"  # given back, not sent
        assert len(openrouter.requests) == 1
        await pilot.press("escape")
        await wait_until(pilot, lambda: stored() == [])


async def test_esc_on_an_edited_prompt_brings_the_branch_back(openrouter: FakeServer) -> None:
    never = threading.Event()
    conversation_id = seed_chain(4, lambda index: f"m{index}")
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["x"]), first_byte_delay=never))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await app.on_chat_screen_open(ChatScreen.Open(conversation_id))
        await pilot.press("ctrl+up")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(openrouter.requests) == 1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: bodies(app) == ["m0", "m1", "m2", "m3"])
        assert app.screen.query_one(PromptBox).text == "m2"
    assert [m.content for m in stored()] == ["m0", "m1", "m2", "m3"]


async def test_a_chat_taken_back_leaves_the_list(openrouter: FakeServer) -> None:
    never = threading.Event()
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["x"]), first_byte_delay=never))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "regretted")
        await wait_until(pilot, lambda: len(openrouter.requests) == 1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.query_one(PromptBox).text == "regretted")
        await wait_until(pilot, lambda: not app.screen.query_one(ConversationList).listed)
        await app.on_chat_screen_open(ChatScreen.Open(12345))  # gone: a warning, not a crash
        assert app.is_running
