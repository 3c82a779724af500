"""`mai presets list|add|remove` through the real entry point."""

from __future__ import annotations

from sqlmodel import select

from mai_tui.core.context import load_context
from mai_tui.core.store.models import Conversation, KnowledgeCollection
from tests.cli.conftest import Mai
from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks


def test_add_list_and_remove_a_preset(mai: Mai) -> None:
    assert "No presets yet" in mai("presets", "list").out
    with load_context().session() as session:
        session.add(KnowledgeCollection(name="handbooks", embedder="minilm", chunk_size=1000, chunk_overlap=100))
    added = mai(
        "presets",
        "add",
        "Support",
        "-m",
        "openrouter/openai/gpt-4o-mini",
        "-s",
        "Answer politely.",
        "--temperature",
        "0.2",
        "--max-tokens",
        "500",
        "--kb",
        "Handbooks",
    )
    assert added.code == 0, added.err
    assert "Added preset 'Support' (openrouter/openai/gpt-4o-mini)." in added.out
    [row] = mai("presets", "list", "--json").json()
    assert {k: row[k] for k in ("name", "model", "system_prompt", "temperature", "max_tokens", "collection")} == {
        "name": "Support",
        "model": "openrouter/openai/gpt-4o-mini",
        "system_prompt": "Answer politely.",
        "temperature": 0.2,
        "max_tokens": 500,
        "collection": "handbooks",
    }
    assert row["created_at"].endswith("+00:00")
    table = mai("presets", "list").out
    assert "Support" in table
    assert "#" not in table  # collections are shown by name

    removed = mai("presets", "remove", "support")
    assert removed.code == 0
    assert "Removed preset 'Support' (0 conversations were started from it)." in removed.out
    assert mai("presets", "list", "--json").json() == []


def test_bad_input_is_one_line_and_exit_1(mai: Mai) -> None:
    bad_model = mai("presets", "add", "x", "-m", "gpt-4o")
    assert bad_model.code == 1
    assert "PROVIDER/MODEL" in bad_model.err
    assert bad_model.err.count("\n") == 1
    bad_temperature = mai("presets", "add", "x", "-m", "openai/gpt-4o", "--temperature", "3")
    assert (bad_temperature.code, "temperature must be a number from 0 to 2" in bad_temperature.err) == (1, True)
    no_collection = mai("presets", "add", "x", "-m", "openai/gpt-4o", "--kb", "nowhere")
    assert (no_collection.code, "no collection named 'nowhere'" in no_collection.err) == (1, True)
    assert mai("presets", "add", "x", "-m", "openai/gpt-4o").code == 0
    assert "already exists" in mai("presets", "add", "X", "-m", "openai/gpt-4o").err
    missing = mai("presets", "remove", "nothing")
    assert (missing.code, "no preset named 'nothing'" in missing.err) == (1, True)
    assert mai("presets", "add", "x", "--model").code == 2  # Typer's own usage error


def test_ask_with_a_preset_uses_its_model_prompt_and_parameters(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["Arr."])))
    mai("presets", "add", "Pirate", "-m", "openrouter/anthropic/claude-3.5-sonnet", "-s", "Be a pirate.")
    mai("presets", "add", "Cold", "-m", "openrouter/openai/gpt-4o", "--temperature", "0", "--max-tokens", "50")
    data = mai("ask", "--preset", "pirate", "hello", "--json").json()
    body = openrouter.requests[-1].json()
    assert (data["model"], body["model"]) == ("openrouter/anthropic/claude-3.5-sonnet", "anthropic/claude-3.5-sonnet")
    assert body["messages"][0] == {"role": "system", "content": "Be a pirate."}
    assert mai("ask", "--preset", "Cold", "-m", "openrouter/openai/gpt-4o-mini", "hi").code == 0
    body = openrouter.requests[-1].json()
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("openai/gpt-4o-mini", 0, 50)  # -m wins
    with load_context().session(write=False) as session:
        presets = {c.id: c.preset_id for c in session.exec(select(Conversation)).all()}
    assert presets[data["conversation_id"]] is not None
    missing = mai("ask", "--preset", "nothing", "hi")
    assert (missing.code, "no preset named 'nothing'" in missing.err) == (1, True)


def test_ask_with_a_preset_whose_collection_was_removed_answers_without_it(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["Fine."])))
    assert mai("kb", "create", "handbook").code == 0
    assert mai("presets", "add", "Helper", "-m", "openrouter/openai/gpt-4o", "--kb", "handbook").code == 0
    assert mai("kb", "remove", "handbook", "--yes").code == 0
    answered = mai("ask", "--preset", "Helper", "hello")
    assert answered.code == 0
    assert "Fine." in answered.out
    assert "'handbook' no longer exists" in answered.err
