"""`mai ask` and `mai models` against fake providers, through the real entry point."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from mai_tui.core.chat.ask import ask
from mai_tui.core.context import load_context
from mai_tui.core.store.models import ChatMessage, Conversation, LedgerEntry
from tests.cli.conftest import Mai
from tests.fakes.server import FakeServer, Replay, Status, Stream
from tests.fakes.wire import openai_chunks, openrouter_chunks


def messages() -> list[ChatMessage]:
    with load_context().session(write=False) as session:
        return list(session.exec(select(ChatMessage).order_by(ChatMessage.id)).all())  # type: ignore[arg-type]


def test_ask_streams_the_answer_and_saves_it(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("POST", "/api/v1/chat/completions", Replay("openrouter/chat_completions_stream_usage_cost.sse"))
    result = mai("ask", "Say hello")
    assert result.code == 0, result.err
    [prompt, answer] = messages()
    assert (prompt.role, prompt.content) == ("user", "Say hello")
    assert answer.parent_id == prompt.id
    assert result.out == answer.content + ("" if answer.content.endswith("\n") else "\n")
    assert answer.status == "complete"
    assert (answer.generation_id or "").startswith("gen-")
    assert (answer.cost_usd or 0) > 0
    assert openrouter.requests[0].json()["user"] == "personal/tester"  # the paying org and the user
    with load_context().session(write=False) as session:
        [entry] = session.exec(select(LedgerEntry)).all()
    assert (entry.kind, entry.message_id, entry.generation_id) == ("ask", answer.id, answer.generation_id)
    assert (entry.raw_cost_usd, entry.cost_source, entry.estimated) == (answer.cost_usd, "provider", False)
    assert entry.billed_cost_usd == (answer.cost_usd or 0) * Decimal("1.3")


def test_ask_json_has_the_contract_fields(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["Hi", "!"], cost="0.00002415")))
    data = mai("ask", "hello", "--json").json()
    assert data["text"] == "Hi!"
    assert data["model"] == "openrouter/openai/gpt-4o-mini"
    assert data["provider"] == "openrouter"
    assert data["usage"]["cost_usd"] == "0.00002415"  # money is a decimal string
    assert set(data["usage"]) == {
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "cost_usd",
    }
    assert data["generation_id"] == "gen-1764926476-0N0195qHFzGljvYKVijc"
    assert data["finish_reason"] == "stop"
    assert isinstance(data["conversation_id"], int)


def test_piped_stdin_is_appended_to_the_prompt(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["Summary."])))
    assert mai("ask", "summarise", stdin="line one\nline two\n").code == 0
    sent = openrouter.requests[0].json()["messages"]
    assert sent[-1] == {"role": "user", "content": "summarise\n\nline one\nline two"}
    assert mai("ask", "-s", "Be brief.", "x").code == 0
    assert openrouter.requests[1].json()["messages"][0] == {"role": "system", "content": "Be brief."}


def test_provider_error_exits_3_and_is_saved(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route(
        "POST", "/api/v1/chat/completions", Replay("openrouter/error_402_insufficient_credits.from_issue.json")
    )
    result = mai("ask", "hello")
    assert result.code == 3
    assert "out of credits" in result.err
    assert result.err.count("\n") == 1
    answer = messages()[-1]
    assert answer.status == "error"
    assert answer.error_kind == "quota"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"MAI_DEFAULT_MODEL": ""}, "no model given"),
        ({"OPENROUTER_API_KEY": ""}, "no API key for openrouter"),
        ({"MAI_DEFAULT_MODEL": "gpt-4o"}, "PROVIDER/MODEL"),
    ],
)
def test_bad_setup_is_one_line_and_exit_1(
    mai: Mai, openrouter: FakeServer, monkeypatch: pytest.MonkeyPatch, setup: dict[str, str], message: str
) -> None:
    for name, value in setup.items():
        monkeypatch.setenv(name, value)
    result = mai("ask", "hello")
    assert result.code == 1
    assert message in result.err
    assert openrouter.requests == []


def test_pending_user_cannot_call_models(mai: Mai, openrouter: FakeServer) -> None:
    mai("db", "init")
    result = mai("ask", "hello", user="newcomer")
    assert result.code == 1
    assert "pending" in result.err
    assert openrouter.requests == []


async def test_cancelling_keeps_the_prompt_and_the_partial_answer(openrouter: FakeServer) -> None:
    hold = threading.Event()
    chunks = openrouter_chunks(["Half", " an answer", " never finished"])[:4]
    openrouter.route("POST", "/api/v1/chat/completions", Stream(chunks, hold_open=hold))
    seen: list[str] = []
    arrived = asyncio.Event()

    def on_text(delta: str) -> None:
        seen.append(delta)
        if "".join(seen) == "Half an answer":
            arrived.set()

    task = asyncio.create_task(ask(load_context(), "question", on_text=on_text))
    await asyncio.wait_for(arrived.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [prompt, answer] = messages()
    assert prompt.content == "question"
    assert answer.content == "Half an answer"
    assert answer.status == "cancelled"
    assert answer.finish_reason == "cancelled"
    assert answer.generation_id == "gen-1764926476-0N0195qHFzGljvYKVijc"


def test_every_ask_is_a_conversation(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["A"])))
    mai("ask", "first question\nwith two lines")
    mai("ask", "second")
    with load_context().session(write=False) as session:
        titles = [c.title for c in session.exec(select(Conversation).order_by(Conversation.id)).all()]  # type: ignore[arg-type]
    assert titles == ["first question", "second"]


def test_models_list_fetches_caches_and_prices(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("GET", "/api/v1/models", Replay("openrouter/models_2025-04.json"))
    rows = {row["id"]: row for row in mai("models", "list", "--provider", "openrouter", "--json").json()}
    gpt4o = rows["openrouter/openai/gpt-4o"]
    assert gpt4o["context_length"] == 128000
    assert Decimal(gpt4o["input_price_per_mtok"]) == Decimal("2.5")
    assert gpt4o["fetched_at"].endswith("+00:00")
    assert len(openrouter.requests) == 1
    from mai_tui.core.usage.prices import price_on

    with load_context().session(write=False) as session:  # list prices became dated price-table rows
        price = price_on(session, "openrouter", "openai/gpt-4o", datetime.now(UTC).date())
    assert price is not None
    today = datetime.now(UTC).date()
    assert (price.input_per_mtok, price.source) == (Decimal("2.5"), f"openrouter model list, {today}")
    again = mai("models", "list", "--provider", "openrouter", "--json").json()
    assert len(again) == len(rows)
    assert len(openrouter.requests) == 1  # served from the cache, offline
    openrouter.route("GET", "/api/v1/models", Status(500, {"error": {"message": "down"}}))
    refreshed = mai("models", "list", "--provider", "openrouter", "--refresh", "--json")
    assert refreshed.code == 0
    assert "showing the cached list" in refreshed.err
    assert len(refreshed.json()) == len(rows)  # a failed refresh keeps the cache


def test_models_test_reports_latency_or_the_mapped_error(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("GET", "/api/v1/models", Replay("openrouter/models_2025-04.json"))
    ok = mai("models", "test", "openrouter")
    assert ok.code == 0
    assert "✓ openrouter: 302 models in" in ok.out
    openrouter.route("GET", "/api/v1/models", Status(401, {"error": {"message": "No auth credentials found"}}))
    failed = mai("models", "test", "openrouter")
    assert failed.code == 3
    assert "the API key was refused" in failed.out


def test_ask_with_openai_usage_chunk(mai: Mai, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.base_url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-0123456789")
        server.route("POST", "/v1/chat/completions", Stream(openai_chunks(["Fine."])))
        data = mai("ask", "-m", "openai/gpt-4o-mini", "hi", "--json").json()
    assert data["text"] == "Fine."
    assert data["usage"]["cost_usd"] is None  # OpenAI reports no cost: the ledger prices it later
