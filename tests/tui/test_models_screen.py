"""The models screen against fake providers: the catalogue filtered by text and provider, the
default model, refreshing with a failing provider, connection status, and presets (managed,
and a new chat started from one)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static, TextArea

from mai_tui.core.chat import presets
from mai_tui.core.chat.presets import PresetSpec
from mai_tui.core.context import load_context
from mai_tui.core.knowledge import manage
from mai_tui.core.knowledge.ingest import Ingest, Outcome
from mai_tui.core.knowledge.rag import load_citations
from mai_tui.core.store.models import CatalogueEntry, ChatMessage, Conversation
from mai_tui.locations import Paths
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.screens.dialogs import ConfirmDialog
from mai_tui.tui.screens.models import ModelsScreen, price
from mai_tui.tui.screens.preset_form import PresetForm
from mai_tui.tui.widgets.message import MessageView
from mai_tui.tui.widgets.prompt import PromptBox
from mai_tui.tui.widgets.sources import SourcesList
from tests.fakes.server import FakeServer, Replay, Status, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import wait_until

ROUTE = "/api/v1/chat/completions"
MODELS = "/api/v1/models"
DECK = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "docs" / "pptx" / "sample-presentation.pptx"


def seed_catalogue(count: int, provider: str = "openrouter", prefix: str = "vendor/model") -> None:
    """`count` models of `provider`, numbered, with list prices."""
    with load_context().session() as session:
        for index in range(count):
            session.add(
                CatalogueEntry(
                    id=f"{provider}/{prefix}-{index:04d}",
                    provider=provider,
                    model=f"{prefix}-{index:04d}",
                    context_length=8192 * (1 + index % 16),
                    input_price_per_mtok=Decimal(index % 7) / 4,
                    output_price_per_mtok=Decimal(index % 5),
                )
            )


def stored() -> list[ChatMessage]:
    with load_context().session(write=False) as session:
        return list(session.exec(select(ChatMessage).order_by(ChatMessage.id)).all())  # type: ignore[arg-type]


def notes(app: MaiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def shown(widget: Static) -> str:
    return str(widget.render())


async def open_models(pilot: Pilot[Any], key: str = "f6") -> ModelsScreen:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))
    assert isinstance(app.screen, ModelsScreen)
    return app.screen


def table(screen: ModelsScreen, which: str = "#models-table") -> DataTable[Any]:
    return screen.query_one(which, DataTable)


def column(screen: ModelsScreen, index: int, which: str = "#models-table") -> list[str]:
    rows = table(screen, which)
    return [str(rows.get_row_at(row)[index]).strip() for row in range(rows.row_count)]


def status(screen: ModelsScreen) -> str:
    return shown(screen.query_one("#models-status", Static))


@pytest.fixture
def other_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """A second configured provider (OpenAI) whose key is refused."""
    with FakeServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.base_url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-0123456789")
        server.route("GET", "/v1/models", Status(401, {"error": {"message": "Incorrect API key provided"}}))
        yield server


def test_list_prices_are_shown_exactly() -> None:
    assert [price(Decimal(v)) for v in ("2.5", "0.075", "10", "0", "-1")] == [
        "$2.50",
        "$0.075",
        "$10.00",
        "free",
        "varies",
    ]
    assert price(None) == "—"


async def test_thousands_of_models_filter_by_text_and_provider(openrouter: FakeServer) -> None:
    openrouter.route("GET", MODELS, Replay("openrouter/models_2025-04.json"))
    seed_catalogue(2500)
    seed_catalogue(500, provider="openai", prefix="gpt")
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_models(pilot)
        await wait_until(pilot, lambda: table(screen).row_count == 3000)
        assert "3,000 of 3,000 models" in shown(screen.query_one("#models-count", Static))
        await wait_until(pilot, lambda: "✓ openrouter: 302 models in" in status(screen))

        started = time.monotonic()
        screen.query_one("#models-filter", Input).focus()
        await pilot.press(*"model-012")  # words of a name, in any case
        await wait_until(pilot, lambda: table(screen).row_count == 10)
        assert time.monotonic() - started < 5  # thousands of rows filter while typing
        assert column(screen, 1)[:2] == ["openrouter/vendor/model-0120", "openrouter/vendor/model-0121"]
        assert column(screen, 4)[0] == "$0.25"  # input $/Mtok, exactly

        await pilot.press("ctrl+a", "ctrl+k")  # clear the filter, then only one provider
        await wait_until(pilot, lambda: table(screen).row_count == 3000)
        screen.query_one("#models-provider", Select).value = "openai"
        await wait_until(pilot, lambda: table(screen).row_count == 500)
        assert set(column(screen, 2)) == {"openai"}
        screen.query_one("#models-filter", Input).value = "GPT 0499"
        await wait_until(pilot, lambda: table(screen).row_count == 1)
        assert "1 of 3,000 models" in shown(screen.query_one("#models-count", Static))


async def test_d_makes_the_highlighted_model_the_default(openrouter: FakeServer) -> None:
    openrouter.route("GET", MODELS, Replay("openrouter/models_2025-04.json"))
    seed_catalogue(20)
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_models(pilot)
        await wait_until(pilot, lambda: table(screen).row_count == 20)
        screen.query_one("#models-filter", Input).value = "model-0007"
        await wait_until(pilot, lambda: table(screen).row_count == 1)
        table(screen).focus()
        await pilot.press("d")
        await wait_until(pilot, lambda: column(screen, 0) == ["★"])
        assert app.context is not None
        assert app.context.settings.default_model == "openrouter/vendor/model-0007"
        config = Paths.from_environment().config_file.read_text()
        assert 'default_model = "openrouter/vendor/model-0007"' in config
        assert "default: openrouter/vendor/model-0007" in shown(screen.query_one("#models-count", Static))
        assert any("MAI_DEFAULT_MODEL is set in the environment" in note for note in notes(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert app.sub_title.startswith("openrouter/vendor/model-0007")  # a new chat uses it


async def test_refresh_keeps_a_failing_providers_cached_list(
    openrouter: FakeServer, other_provider: FakeServer
) -> None:
    openrouter.route("GET", MODELS, Replay("openrouter/models_2025-04.json"))
    seed_catalogue(3, provider="openai", prefix="gpt-cached")
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_models(pilot)
        # On opening: each provider's status; OpenRouter, never listed before, is stored at once.
        await wait_until(pilot, lambda: table(screen).row_count == 302 + 3)
        await wait_until(pilot, lambda: "✗" in status(screen))
        lines = status(screen).splitlines()
        assert lines[0].startswith("✗ openai")
        assert "the API key was refused" in lines[0]
        assert lines[1].startswith("✓ openrouter: 302 models in")

        openrouter.route("GET", MODELS, Status(401, {"error": {"message": "No auth credentials found"}}))
        other_provider.route("GET", "/v1/models", Status(200, {"object": "list", "data": []}))  # the key works now
        await pilot.press("r")
        await wait_until(pilot, lambda: any("Not refreshed: openrouter" in note for note in notes(app)))
        await wait_until(pilot, lambda: status(screen).startswith("✓ openai: 0 models"))
        assert "✗ openrouter" in status(screen)
        assert table(screen).row_count == 302  # OpenRouter's cached list stays; OpenAI's new (empty) one replaced its
        assert not any(model.startswith("openai/") for model in column(screen, 1))
        assert (len(other_provider.requests), len(openrouter.requests)) == (2, 2)


async def test_presets_are_added_edited_and_deleted(openrouter: FakeServer) -> None:
    openrouter.route("GET", MODELS, Replay("openrouter/models_2025-04.json"))
    manage.create_collection(load_context(), "handbooks")
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_models(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.query_one("#presets-empty", Static).display)
        assert "No presets yet" in shown(screen.query_one("#presets-empty", Static))

        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetForm))
        form = app.screen
        await pilot.press(*"Pirate")
        form.query_one("#preset-model", Input).value = "gpt-4o"
        form.query_one("#preset-system", TextArea).load_text("Answer like a pirate.")
        form.query_one("#preset-temperature", Input).value = "0.3"
        form.query_one("#preset-collection", Select).value = "handbooks"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "PROVIDER/MODEL" in shown(form.query_one("#preset-problem", Static)))
        model = form.query_one("#preset-model", Input)
        model.value = ""
        model.focus()
        await pilot.press(*"openrouter/openai/gpt-4o-m", "right")  # the catalogue completes the name
        await wait_until(pilot, lambda: model.value == "openrouter/openai/gpt-4o-mini")
        await pilot.click("#preset-save")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))
        await wait_until(pilot, lambda: column(screen, 0, "#presets-table") == ["Pirate"])
        assert [str(cell) for cell in table(screen, "#presets-table").get_row_at(0)] == [
            "Pirate",
            "openrouter/openai/gpt-4o-mini",
            "0.3",
            "—",
            "#handbooks",
        ]
        assert "System prompt: Answer like a pirate." in shown(screen.query_one("#presets-detail", Static))

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetForm))
        form = app.screen
        assert form.query_one("#preset-name", Input).value == "Pirate"
        form.query_one("#preset-name", Input).value = "Corsair"
        form.query_one("#preset-max-tokens", Input).value = "500"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: column(screen, 0, "#presets-table") == ["Corsair"])
        assert column(screen, 3, "#presets-table") == ["500"]

        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: table(screen, "#presets-table").row_count == 0)
    assert presets.list_presets(load_context()) == []


async def test_a_new_chat_from_a_preset_sends_its_model_prompt_and_parameters(openrouter: FakeServer) -> None:
    openrouter.route("GET", MODELS, Replay("openrouter/models_2025-04.json"))
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["Arr!"])), Stream(openrouter_chunks(["Plain."])))
    context = load_context()
    presets.add_preset(context, PresetSpec("Analyst", "openrouter/openai/gpt-4o"))
    pirate = presets.add_preset(
        context, PresetSpec("Pirate", "openrouter/anthropic/claude-3.5-sonnet", "Answer like a pirate.", 0.4, 321)
    )
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        palette = {command.title: command for command in app.get_system_commands(app.screen)}
        assert "Models" in palette
        palette["New chat with preset"].callback()
        await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        await wait_until(pilot, lambda: table(screen, "#presets-table").row_count == 2)
        assert table(screen, "#presets-table").has_focus
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert "New chat with the preset 'Pirate'" in shown(app.chat.query_one("#notice", Static))
        assert app.sub_title.startswith("openrouter/anthropic/claude-3.5-sonnet")
        box = app.chat.query_one(PromptBox)
        assert box.has_focus
        box.load_text("Where is the treasure?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        body = openrouter.requests[-1].json()
        assert body["model"] == "anthropic/claude-3.5-sonnet"
        assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
        assert (body["temperature"], body["max_tokens"]) == (0.4, 321)

        await pilot.press("ctrl+n")  # a new chat forgets the preset
        await wait_until(pilot, lambda: not app.chat.query(MessageView))
        box.load_text("Hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(stored()) == 4 and stored()[-1].status == "complete")
        plain = openrouter.requests[-1].json()
        assert plain["model"] == "openai/gpt-4o-mini"
        assert plain["messages"][0]["role"] == "user"
    with load_context().session(write=False) as session:
        started = session.exec(select(Conversation).order_by(Conversation.id)).all()  # type: ignore[arg-type]
    assert [c.preset_id for c in started] == [pirate.id, None]


async def test_a_preset_with_a_collection_grounds_every_answer(openrouter: FakeServer) -> None:
    context = load_context()
    manage.create_collection(context, "deck")
    assert [r.outcome for r in Ingest(context, "deck").run([DECK]).results] == [Outcome.INDEXED]
    preset = presets.add_preset(context, PresetSpec("Deck expert", "openrouter/openai/gpt-4o-mini", collection="deck"))
    openrouter.route("GET", MODELS, Replay("openrouter/models_2025-04.json"))
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["It lists topics [1]."])))
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        app.post_message(ModelsScreen.StartChat(preset))
        await wait_until(pilot, lambda: "searches #deck" in shown(app.chat.query_one("#notice", Static)))
        box = app.chat.query_one(PromptBox)
        box.load_text("What is on the second content slide?")
        box.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        asked = openrouter.requests[-1].json()["messages"][-1]["content"]
        assert "<sources>" in asked
        assert asked.endswith("Question: What is on the second content slide?")
        view = app.chat.query(MessageView).last()
        await wait_until(pilot, lambda: bool(view.query(SourcesList)))
    prompt, answer = stored()
    assert prompt.content == "What is on the second content slide?"
    assert {p.file for p in load_citations(answer.citations)} == {DECK.name}


def steady_status(screen: ModelsScreen) -> None:
    """Fixed latencies in the status lines: the wall clock would make a snapshot flaky."""
    screen.status = {name: line.split(" in ")[0] + " in 120 ms" for name, line in screen.status.items()}
    screen.show_status()


def test_models_screen_snapshot(snap_compare: Any, openrouter: FakeServer) -> None:
    openrouter.route("GET", MODELS, Replay("openrouter/models_2025-04.json"))

    async def open_it(pilot: Pilot[Any]) -> None:
        screen = await open_models(pilot)
        await wait_until(pilot, lambda: table(screen).row_count == 302)
        await wait_until(pilot, lambda: "✓" in status(screen))
        steady_status(screen)
        screen.query_one("#models-filter", Input).value = "claude 3.5"
        await wait_until(pilot, lambda: 0 < table(screen).row_count < 302)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(120, 30), run_before=open_it)


def test_preset_form_snapshot(snap_compare: Any, openrouter: FakeServer) -> None:
    openrouter.route("GET", MODELS, Replay("openrouter/models_2025-04.json"))
    context = load_context()
    with context.session() as session:
        session.add(CatalogueEntry(id="openrouter/openai/gpt-4o", provider="openrouter", model="openai/gpt-4o"))
    presets.add_preset(
        context, PresetSpec("Pirate", "openrouter/openai/gpt-4o", "Answer like a pirate.\nKeep it short.", 0.3, 400)
    )

    async def edit_it(pilot: Pilot[Any]) -> None:
        screen = await open_models(pilot)
        await wait_until(pilot, lambda: "✓" in status(screen))
        await pilot.press("p")
        await wait_until(pilot, lambda: table(screen, "#presets-table").row_count == 1)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PresetForm))
        form = pilot.app.screen
        steady_cursors(form)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 40), run_before=edit_it)


def steady_cursors(form: Any) -> None:
    """No blinking cursors in the form: a blink caught mid-way makes a snapshot flaky."""
    for field in form.query(Input):
        field.cursor_blink = False
        field.refresh()
    area = form.query_one(TextArea)
    area.cursor_blink = False
    area.refresh()
