"""Every recorded wire fixture through the real adapter and SDK: exact text, usage, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from mai_tui.core.providers.anthropic_provider import AnthropicProvider
from mai_tui.core.providers.events import Answer
from mai_tui.core.providers.gemini import GeminiChunks
from mai_tui.core.providers.wire import AnthropicParser, OpenAIChatParser, loads
from tests.fakes import WIRE
from tests.fakes.server import FakeServer, Replay, Status
from tests.providers.conftest import chat_path, collect, make_provider
from tests.providers.fixture_expectations import EXPECTED

# The JSON-array form is what Gemini sends without alt=sse; the SDK always asks for SSE, so that
# recording is checked through the chunk converter below instead of over HTTP.
JSON_ARRAY = "gemini/stream_generate_content_json_array.json"
STREAMED = sorted(k for k, v in EXPECTED.items() if v["kind"] == "stream" and k != JSON_ARRAY)
ERRORS = sorted(k for k, v in EXPECTED.items() if v["kind"] == "error")
NONSTREAM = sorted(k for k, v in EXPECTED.items() if v["kind"] == "nonstream")


def gemini_response(body: dict[str, Any]) -> Any:
    """Build the SDK's response object exactly as the SDK does from a response body."""
    from google.genai import types

    return types.GenerateContentResponse._from_response(response=body, kwargs={})


def test_every_fixture_file_has_an_expectation() -> None:
    files = {
        str(p.relative_to(WIRE))
        for p in WIRE.rglob("*")
        if p.is_file() and p.suffix in {".sse", ".json", ".ndjson"} and not p.name.endswith(".headers.json")
    }
    assert files == set(EXPECTED)


def provider_of(fixture: str) -> str:
    return fixture.split("/")[0]


def check(answer: Answer, expected: dict[str, Any]) -> None:
    assert answer.text == expected["text"]
    assert answer.reasoning == expected["reasoning"]
    assert answer.generation_id == expected["generation_id"]
    if expected["usage"] is None:
        assert answer.usage is None
    else:
        assert answer.usage is not None
        usage = expected["usage"]
        cost = usage["cost_usd"]
        assert (
            answer.usage.prompt_tokens,
            answer.usage.completion_tokens,
            answer.usage.cached_tokens,
            answer.usage.cache_write_tokens,
            answer.usage.reasoning_tokens,
        ) == (
            usage["prompt_tokens"],
            usage["completion_tokens"],
            usage["cached_tokens"],
            usage["cache_write_tokens"],
            usage["reasoning_tokens"],
        )
        if cost is None:
            assert answer.usage.cost_usd is None
        else:
            assert isinstance(answer.usage.cost_usd, Decimal)
            assert str(answer.usage.cost_usd) == cost  # exact to the last digit, as written on the wire


@pytest.mark.parametrize("fixture", STREAMED)
async def test_recorded_stream(fixture: str, fake: FakeServer) -> None:
    expected = EXPECTED[fixture]
    kind = provider_of(fixture)
    fake.route("POST", chat_path(kind), Replay(fixture))
    answer = await collect(make_provider(kind, fake))
    check(answer, expected)
    assert answer.finish_reason == expected["finish_reason"]
    if expected["error_kind"] is None:
        assert answer.error is None, answer.error
    else:
        assert answer.error is not None
        assert answer.error.kind.value == expected["error_kind"]
        assert expected["message"] in str(answer.error)


@pytest.mark.parametrize("fixture", ERRORS)
async def test_recorded_error(fixture: str, fake: FakeServer) -> None:
    expected = EXPECTED[fixture]
    kind = provider_of(fixture)
    fake.route("POST", chat_path(kind), Replay(fixture))
    provider = make_provider(kind, fake)
    provider.retry.attempts = 1  # the error itself, not the retry, is under test here
    answer = await collect(provider)
    assert answer.error is not None
    assert answer.error.kind.value == expected["error_kind"]
    assert answer.error.status == expected["status"]
    assert expected["message"].split("\n")[0][:60] in str(answer.error)
    assert "\n" not in str(answer.error)
    assert answer.text == ""


@pytest.mark.parametrize("fixture", NONSTREAM)
def test_recorded_whole_response(fixture: str) -> None:
    """The app always streams; a whole response goes through the same parsers (e.g. replies
    relayed by proxies that ignore `stream`)."""
    expected = EXPECTED[fixture]
    kind = provider_of(fixture)
    body = (WIRE / fixture).read_text(encoding="utf-8")
    answer = Answer()
    if kind in ("openai", "openrouter"):
        events = list(OpenAIChatParser(kind).nonstream(loads(body.strip())))
    elif kind == "anthropic":
        events = list(AnthropicParser(kind).nonstream(loads(body)))
    else:
        chunks = GeminiChunks()
        events = list(chunks.feed(gemini_response(json.loads(body))))
        events += [chunks.usage] if chunks.usage else []
    for event in events:
        answer.apply(event)
    check(answer, expected)
    assert answer.finish_reason == expected["finish_reason"]


def test_gemini_json_array_stream() -> None:
    """`streamGenerateContent` without alt=sse sends one JSON array; each element is a chunk."""
    fixture = JSON_ARRAY
    chunks = GeminiChunks()
    answer = Answer()
    for element in json.loads((WIRE / fixture).read_text()):
        for event in chunks.feed(gemini_response(element)):
            answer.apply(event)
    assert chunks.usage is not None
    answer.apply(chunks.usage)
    check(answer, EXPECTED[fixture])


async def test_openrouter_model_list_prices_are_exact(fake: FakeServer) -> None:
    fake.route("GET", "/api/v1/models", Replay("openrouter/models_2025-04.json"))
    models = {m.id: m for m in await make_provider("openrouter", fake).list_models()}
    notes = EXPECTED["openrouter/models_2025-04.json"]["notes"]
    assert len(models) == notes["model_count"]
    gpt4o = models["openai/gpt-4o"]
    assert gpt4o.context_length == 128000
    assert gpt4o.input_price_per_mtok == Decimal("2.5")
    assert gpt4o.output_price_per_mtok == Decimal("10")
    assert gpt4o.cache_read_price_per_mtok == Decimal("1.25")
    assert models["google/gemini-2.5-pro-preview-03-25"].cache_read_price_per_mtok == Decimal("0.625")
    assert models["openrouter/auto"].input_price_per_mtok is None  # "-1": variable price, not a price


async def test_gemini_model_list_follows_pages(fake: FakeServer) -> None:
    last_page = {
        "models": [
            {"name": "models/gemini-late", "inputTokenLimit": 4096, "supportedGenerationMethods": ["generateContent"]}
        ]
    }
    fake.route("GET", "/v1beta/models", Replay("gemini/models_list_page1.json"), Status(200, last_page))
    models = {m.id: m for m in await make_provider("gemini", fake).list_models()}
    assert models["gemini-2.5-flash"].context_length == 1048576
    assert models["gemini-late"].context_length == 4096  # the nextPageToken was followed
    assert len(fake.requests) == 2
    assert "gemini-embedding-001" not in models  # models that cannot chat are left out


async def test_ollama_tags(fake: FakeServer) -> None:
    fake.route("GET", "/api/tags", Replay("ollama/tags.from_test.json"))
    models = await make_provider("ollama", fake).list_models()
    expected = EXPECTED["ollama/tags.from_test.json"]["notes"]["model_fields"]
    assert [m.id for m in models] == expected


def test_unused_endpoint_fixtures_are_named() -> None:
    """Fixtures of endpoints the app never calls, kept visible here rather than silently skipped."""
    unused = {k for k, v in EXPECTED.items() if v["kind"] == "other"}
    covered = {"openrouter/models_2025-04.json", "gemini/models_list_page1.json", "ollama/tags.from_test.json"}
    assert unused - covered == {"ollama/generate_nonstream.json"}  # /api/generate: the app uses /api/chat


def test_anthropic_provider_is_importable_without_a_key() -> None:
    assert AnthropicProvider("anthropic", "http://127.0.0.1:1", None).api_key is None
