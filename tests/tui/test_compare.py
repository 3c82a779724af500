"""Comparing models in the TUI against a fake OpenRouter: mark the models, watch three answers
stream side by side, continue with one; the others stay as branches of the conversation."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlmodel import col, select
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, SelectionList, Static

from mai_tui.core.context import load_context
from mai_tui.core.store.models import CatalogueEntry, ChatMessage, LedgerEntry
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.screens.compare import CompareScreen
from mai_tui.tui.screens.compare_models import CompareModels
from mai_tui.tui.widgets.message import MessageView
from mai_tui.tui.widgets.prompt import PromptBox
from tests.fakes.server import Dynamic, FakeServer, RecordedRequest, Reply, Status, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import wait_until

ROUTE = "/api/v1/chat/completions"
MINI = "openrouter/openai/gpt-4o-mini"  # the default model (the `openrouter` fixture)
HAIKU = "openrouter/anthropic/claude-3.5-haiku"
FLASH = "openrouter/google/gemini-2.0-flash"


def answer(text: list[str], cost: str, generation: str, **options: Any) -> Stream:
    return Stream(openrouter_chunks(text, id=generation, cost=cost), **options)


def by_model(replies: Mapping[str, Reply]) -> Dynamic:
    """The fake answers each model with its own reply (the request names the model)."""

    def reply(request: RecordedRequest) -> Reply:
        return replies[request.json()["model"]]

    return Dynamic(reply)


THREE = {
    "openai/gpt-4o-mini": answer(["Mini ", "says hi."], "0.00001", "gen-tui-mini"),
    "anthropic/claude-3.5-haiku": answer(["Haiku ", "says hi."], "0.00002", "gen-tui-haiku"),
    "google/gemini-2.0-flash": answer(["Flash ", "says hi."], "0.00003", "gen-tui-flash"),
}


def catalogue(*models: str) -> None:
    with load_context().session() as session:
        for model in models:
            provider, _slash, model_id = model.partition("/")
            session.add(CatalogueEntry(id=model, provider=provider, model=model_id, context_length=128000))


def stored() -> list[ChatMessage]:
    with load_context().session(write=False) as session:
        return list(session.exec(select(ChatMessage).order_by(col(ChatMessage.id))).all())


def notes(app: MaiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def bodies(app: MaiApp) -> list[str]:
    return [view.message.content for view in app.screen.query(MessageView)]


def labels(app: MaiApp) -> list[str]:
    return [str(v.query_one(".who", Static).render()) for v in app.screen.query(MessageView)]


def columns(app: MaiApp) -> list[tuple[str, str]]:
    """(state, footer) of each column of the compare screen."""
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    return [(c.state, str(c.query_one(".compare-foot", Static).render())) for c in screen.columns]


def streamed(app: MaiApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    return [str(c.query_one(Markdown).source) for c in screen.columns]


async def ready(pilot: Pilot[Any]) -> MaiApp:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)
    assert app.providers is not None
    app.providers.get("openrouter").retry.attempts = 1  # a failing model shows its error at once
    return app


async def compare(pilot: Pilot[Any], text: str, *filters: str) -> None:
    """Type `text`, press F7, mark a model for each filter (the default one is marked already), Enter."""
    app = pilot.app
    box = app.screen.query_one(PromptBox)
    box.load_text(text)
    box.focus()
    await pilot.press("f7")
    await wait_until(pilot, lambda: isinstance(app.screen, CompareModels))
    for words in filters:
        app.screen.query_one(Input).value = ""
        await pilot.press(*words)
        await pilot.pause()
        await pilot.press("space")
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))


async def all_finished(pilot: Pilot[Any]) -> None:
    await wait_until(pilot, lambda: not pilot.app.screen.streaming)  # type: ignore[attr-defined]


async def test_three_answers_stream_side_by_side_and_the_chosen_one_continues(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, by_model(THREE))
    catalogue(MINI, HAIKU, FLASH, "openrouter/meta-llama/llama-3.1-8b")
    app = MaiApp()
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await compare(pilot, "Say hi", "haiku", "flash")
        await all_finished(pilot)
        assert [c.answer.model for c in app.screen.columns] == [MINI, HAIKU, FLASH]  # type: ignore[attr-defined]
        assert streamed(app) == ["Mini says hi.", "Haiku says hi.", "Flash says hi."]
        footers = [footer for _state, footer in columns(app)]
        assert "12 → 2 tokens" in footers[0]
        assert ["$0.00001" in footers[0], "$0.00002" in footers[1], "$0.00003" in footers[2]] == [True] * 3
        assert app.chat.query_one(PromptBox).text == ""  # the prompt went out

        await pilot.press("2")  # continue with Haiku's answer
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_until(pilot, lambda: bodies(app) == ["Say hi", "Haiku says hi."])
        assert labels(app)[1].endswith("◀ 2/3 ▶")  # the others are its siblings
        assert app.model == HAIKU
        assert "Continuing with" in str(app.screen.query_one("#notice", Static).render())

        await pilot.press("alt+left")  # the existing branch navigation reaches the others
        await wait_until(pilot, lambda: bodies(app) == ["Say hi", "Mini says hi."])
        await pilot.press("alt+right")
        await wait_until(pilot, lambda: bodies(app) == ["Say hi", "Haiku says hi."])

        openrouter.route("POST", ROUTE, answer(["Haiku goes on."], "0.00004", "gen-tui-next"))
        box = app.screen.query_one(PromptBox)
        box.load_text("And then?")
        box.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await wait_until(pilot, lambda: bodies(app) == ["Say hi", "Haiku says hi.", "And then?", "Haiku goes on."])
    request = openrouter.requests[-1].json()
    assert request["model"] == "anthropic/claude-3.5-haiku"
    assert request["messages"][1] == {"role": "assistant", "content": "Haiku says hi."}
    with load_context().session(write=False) as session:
        kinds = [row.kind for row in session.exec(select(LedgerEntry).order_by(col(LedgerEntry.id))).all()]
    assert kinds == ["compare", "compare", "compare", "chat"]


async def test_one_failing_model_shows_its_error_and_esc_keeps_the_first_finished(openrouter: FakeServer) -> None:
    release = threading.Event()
    openrouter.route(
        "POST",
        ROUTE,
        by_model(
            {
                "openai/gpt-4o-mini": THREE["openai/gpt-4o-mini"],
                "anthropic/claude-3.5-haiku": Status(500, {"error": {"message": "upstream exploded"}}),
                "google/gemini-2.0-flash": answer(
                    ["Flash ", "says hi."], "0.00003", "gen-tui-flash", first_byte_delay=release
                ),
            }
        ),
    )
    catalogue(MINI, HAIKU, FLASH)
    app = MaiApp()
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await compare(pilot, "Say hi", "haiku", "flash")
        await wait_until(pilot, lambda: [state for state, _foot in columns(app)][:2] == ["done", "failed"])
        assert "upstream exploded" in columns(app)[1][1]
        release.set()  # the third one answers once the first has finished
        await all_finished(pilot)
        assert streamed(app)[::2] == ["Mini says hi.", "Flash says hi."]

        await pilot.press("2")  # the failed one cannot be chosen
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert any("nothing to continue from" in note for note in notes(app))
        notice = str(app.screen.query_one("#compare-notice", Static).render())
        assert f"Esc keeps {MINI}" in notice

        await pilot.press("escape")  # nothing is being written: leave with the first that finished
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_until(pilot, lambda: bodies(app) == ["Say hi", "Mini says hi."])
        assert labels(app)[1].endswith("◀ 1/3 ▶")
    prompt, mini, haiku, flash = stored()
    assert (haiku.status, flash.status, mini.status) == ("error", "complete", "complete")
    assert [m.parent_id for m in (mini, haiku, flash)] == [prompt.id] * 3


async def test_esc_before_any_text_takes_the_comparison_back(openrouter: FakeServer) -> None:
    never = threading.Event()
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["late"]), first_byte_delay=never))
    catalogue(MINI, HAIKU)
    app = MaiApp()
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await compare(pilot, "A question I regret", "haiku")
        await wait_until(pilot, lambda: len(openrouter.requests) == 2)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_until(pilot, lambda: app.screen.query_one(PromptBox).text == "A question I regret")
        assert not app.screen.query(MessageView)
    assert stored() == []


async def test_esc_mid_stream_keeps_what_arrived_and_drops_what_did_not(openrouter: FakeServer) -> None:
    hold, never = threading.Event(), threading.Event()
    openrouter.route(
        "POST",
        ROUTE,
        by_model(
            {
                "openai/gpt-4o-mini": Stream(openrouter_chunks(["Half", " way"])[:4], hold_open=hold),
                "anthropic/claude-3.5-haiku": Stream(openrouter_chunks(["late"]), first_byte_delay=never),
            }
        ),
    )
    catalogue(MINI, HAIKU)
    app = MaiApp()
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await compare(pilot, "Tell me everything", "haiku")
        await wait_until(pilot, lambda: streamed(app)[0] == "Half way")
        await pilot.press("escape")  # stops both
        await wait_until(pilot, lambda: [state for state, _foot in columns(app)] == ["stopped", "dropped"])
        await pilot.press("right", "left", "enter")  # Enter chooses the column with the focus
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_until(pilot, lambda: bodies(app) == ["Tell me everything", "Half way"])
        assert labels(app)[1] == MINI  # the empty answer was taken back: no branches
    assert [(m.content, m.status) for m in stored()] == [("Tell me everything", "complete"), ("Half way", "cancelled")]


async def test_the_models_are_marked_in_the_picker_two_or_three_of_them(openrouter: FakeServer) -> None:
    catalogue(MINI, HAIKU, FLASH, "openrouter/meta-llama/llama-3.1-8b")
    app = MaiApp()
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        assert "Compare models" in {command.title for command in app.get_system_commands(app.screen)}
        await pilot.press("f7")  # nothing typed yet
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
        assert "Type a prompt first" in notes(app)

        app.screen.query_one(PromptBox).load_text("Say hi")
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareModels))
        picker = app.screen
        assert isinstance(picker, CompareModels)
        assert picker.marked == [MINI]  # the conversation's model to start with
        await pilot.press("enter")  # one is not a comparison
        assert isinstance(app.screen, CompareModels)
        assert any("Mark two or three models" in note for note in notes(app))
        for words in ("haiku", "flash", "llama"):
            picker.query_one(Input).value = ""
            await pilot.press(*words)
            await pilot.pause()
            await pilot.press("space")
        assert picker.marked == [MINI, HAIKU, FLASH]  # a fourth is refused
        assert any("Three models at most" in note for note in notes(app))
        picker.query_one(Input).value = ""
        await pilot.press(*"flash", "space")  # unmarks it
        assert picker.marked == [MINI, HAIKU]
        assert picker.query_one(SelectionList).selected == []  # the filtered list shows flash unmarked
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
    assert openrouter.requests == []


def test_compare_screen_snapshot(snap_compare: Any, openrouter: FakeServer) -> None:
    release = threading.Event()  # the second answer starts once the first has finished: a steady notice
    replies: dict[str, Reply] = {
        "openai/gpt-4o-mini": answer(["## Mini\n\n", "Short and **sweet**."], "0.00001", "gen-snap-mini"),
        "anthropic/claude-3.5-haiku": answer(
            ["Five syllables here\n\n", "- one\n- two"], "0.00002", "gen-snap-hk", first_byte_delay=release
        ),
        "google/gemini-2.0-flash": Status(429, {"error": {"message": "Rate limit exceeded: free-models-per-day"}}),
    }
    openrouter.route("POST", ROUTE, by_model(replies))
    catalogue(MINI, HAIKU, FLASH)

    async def comparing(pilot: Pilot[Any]) -> None:
        app = await ready(pilot)
        await compare(pilot, "Say hi", "haiku", "flash")
        await wait_until(pilot, lambda: columns(app)[0][0] == "done")
        release.set()
        await all_finished(pilot)
        await wait_until(pilot, lambda: "$0.000039" in str(app.sub_title))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        for column in screen.columns:  # wall-clock time would make the snapshot flaky
            if column.answer.duration_ms is not None:
                column.answer.duration_ms = 1500
            column.refresh_foot()
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(120, 34), run_before=comparing)
