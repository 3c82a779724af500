"""The fake provider servers: byte-exact replays, real SDKs on top, and the failure modes tests rely on."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import anthropic
import httpx
import httpx2
import openai
import pytest
from anthropic.types import (
    MessageParam,
    RawContentBlockDeltaEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    TextDelta,
)
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from tests.fakes import WIRE, fixture_files
from tests.fakes.server import FakeHandler, FakeServer, Replay, Status, Stream
from tests.fakes.wire import anthropic_events, gemini_chunks, ollama_lines, openai_chunks, openrouter_chunks

PROVIDERS = ["openai", "anthropic", "gemini", "ollama", "openrouter"]
ALL_FIXTURES = [path for provider in PROVIDERS for path in fixture_files(provider)]
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
ANTHROPIC_USER: list[MessageParam] = [{"role": "user", "content": "hi"}]
ANTHROPIC_MODEL = "claude-haiku-4-5"  # the SDK warns on requests naming a deprecated model


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def fetch(server: FakeServer, method: str, path: str, body: bytes | None = None) -> http.client.HTTPResponse:
    """One request over a fresh connection; the caller reads the response."""
    address = urlsplit(server.base_url)
    assert address.hostname is not None
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
    return connection.getresponse()


def raw_chunks(server: FakeServer, path: str) -> tuple[bytes, list[bytes]]:
    """GET `path` over a bare socket; the response head and the HTTP chunks exactly as framed."""
    address = urlsplit(server.base_url)
    assert address.hostname is not None
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while part := sock.recv(65536):
            data += part
    head, _, rest = data.partition(b"\r\n\r\n")
    chunks: list[bytes] = []
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return head, chunks
        chunks.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]


def sidecar(path: Path) -> dict[str, object] | None:
    file = path.with_suffix(".headers.json")
    return json.loads(file.read_text()) if file.exists() else None


# --------------------------------------------------------------------------------------------
# (1) Every recorded body replays byte for byte with its recorded status
# --------------------------------------------------------------------------------------------


def test_the_shared_fixtures_are_found() -> None:
    assert WIRE.is_dir(), WIRE
    assert {path.parent.name for path in ALL_FIXTURES} == set(PROVIDERS)
    assert not [path for path in ALL_FIXTURES if path.name.endswith(".headers.json")]
    assert WIRE / "ollama" / "tags.from_test.json" in ALL_FIXTURES


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_replays_byte_for_byte(server: FakeServer, path: Path) -> None:
    server.route("POST", "/replay", Replay(path.relative_to(WIRE).as_posix()))
    response = fetch(server, "POST", "/replay", b"{}")
    body = response.read()

    assert body == path.read_bytes()
    recorded = sidecar(path)
    if recorded is not None:
        assert response.status == recorded["_status"]
        headers = recorded["headers"]
        assert isinstance(headers, dict)
        content_type = next((v[0] for k, v in headers.items() if k.lower() == "content-type"), "application/json")
        assert response.getheader("Content-Type") == content_type
    elif path.name.startswith("error_"):
        assert response.status == int(path.name.split("_")[1])
        assert response.getheader("Content-Type") == "application/json"
    else:
        assert response.status == 200
        assert response.getheader("Content-Type") == "application/json"
    streaming = path.suffix in (".sse", ".ndjson") or "event-stream" in (response.getheader("Content-Type") or "")
    if streaming:
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
    else:
        assert response.getheader("Content-Length") == str(len(body))
        assert response.getheader("Transfer-Encoding") is None


def test_replay_streams_one_chunk_per_sse_event_keeping_googles_crlf(server: FakeServer) -> None:
    server.route("GET", "/gemini", Replay("gemini/stream_generate_content.sse"))
    server.route("GET", "/openrouter", Replay("openrouter/chat_completions_stream_midstream_error.sse"))

    _, gemini = raw_chunks(server, "/gemini")
    _, openrouter = raw_chunks(server, "/openrouter")

    assert len(gemini) == 2
    assert all(chunk.startswith(b"data: {") and chunk.endswith(b"}\r\n\r\n") for chunk in gemini)
    assert b"".join(gemini) == (WIRE / "gemini/stream_generate_content.sse").read_bytes()
    assert openrouter[:17] == [b": OPENROUTER PROCESSING\n\n"] * 17
    assert len(openrouter) == 22
    assert openrouter[-1] == b"data: [DONE]\n\n"


def test_replay_streams_one_chunk_per_ndjson_line(server: FakeServer) -> None:
    server.route("GET", "/api/chat", Replay("ollama/chat_stream_2.ndjson"))
    head, chunks = raw_chunks(server, "/api/chat")
    assert b"Content-Type: application/x-ndjson" in head
    assert len(chunks) == 10
    assert all(chunk.endswith(b"}\n") and chunk.count(b"\n") == 1 for chunk in chunks)


def test_replay_keeps_recorded_headers_and_adds_openrouters_generation_id(server: FakeServer) -> None:
    server.route("POST", "/openai", Replay("openai/chat_completions_stream_tool_call_usage.sse"))
    server.route("POST", "/anthropic", Replay("anthropic/error_401_authentication.json"))
    server.route("POST", "/openrouter", Replay("openrouter/chat_completions_stream_usage_cost.sse"))
    server.route("POST", "/not-found", Replay("openai/error_404_model_not_found.json", status=410))

    openai_reply = fetch(server, "POST", "/openai")
    anthropic_reply = fetch(server, "POST", "/anthropic")
    openrouter_reply = fetch(server, "POST", "/openrouter")
    overridden = fetch(server, "POST", "/not-found")

    assert openai_reply.getheader("x-ratelimit-remaining-requests") == "29999"
    assert openai_reply.getheader("x-request-id") == "req_c3e995e7a86953713a6dc1b17e399fd5"
    assert openai_reply.getheader("Date") == "Tue, 13 May 2025 14:54:09 GMT"
    assert anthropic_reply.getheader("x-should-retry") == "false"
    assert anthropic_reply.getheader("Content-Length") == "130"
    assert openrouter_reply.getheader("X-Generation-Id") == "gen-1754441342-hIkMo7SMi0ZecQw3oR4d"
    assert overridden.status == 410


# --------------------------------------------------------------------------------------------
# (2) The real SDKs consume the fakes
# --------------------------------------------------------------------------------------------


def openai_text(server: FakeServer, *, model: str = "gpt-4o") -> str:
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)
    stream = client.chat.completions.create(model=model, messages=USER, stream=True)
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def anthropic_text(server: FakeServer) -> str:
    client = anthropic.Anthropic(base_url=server.base_url, api_key="test", max_retries=0)
    stream = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=100, messages=ANTHROPIC_USER, stream=True)
    texts = [
        event.delta.text
        for event in stream
        if isinstance(event, RawContentBlockDeltaEvent) and isinstance(event.delta, TextDelta)
    ]
    return "".join(texts)


def collect_text(stream: Iterable[ChatCompletionChunk], texts: list[str]) -> None:
    """Append each chunk's text to `texts`, so a test can see what arrived before an error."""
    for chunk in stream:
        texts.append(chunk.choices[0].delta.content or "" if chunk.choices else "")


def collect_lines(response: httpx.Response, contents: list[str]) -> None:
    for line in response.iter_lines():
        contents.append(json.loads(line)["message"]["content"])


def gemini_client(server: FakeServer) -> genai.Client:
    options = genai_types.HttpOptions(base_url=server.base_url, api_version="v1beta")
    return genai.Client(api_key="test", http_options=options)


def gemini_text(server: FakeServer) -> str:
    # Keep the Client referenced while iterating: when it is garbage-collected it closes its HTTP client.
    client = gemini_client(server)
    stream = client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
    return "".join(chunk.text or "" for chunk in stream)


def test_openai_sdk_reads_the_recorded_stream(server: FakeServer) -> None:
    server.route("POST", "/v1/chat/completions", Replay("openai/chat_completions_stream_text_usage.sse"))

    assert openai_text(server) == "4200 + 42 equals 4242."
    request = server.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer test"
    assert request.json()["stream"] is True


def test_openai_sdk_reads_a_recorded_openrouter_stream(server: FakeServer) -> None:
    server.route("POST", "/api/v1/chat/completions", Replay("openrouter/chat_completions_stream_usage_cost.sse"))
    client = openai.OpenAI(base_url=server.base_url + "/api/v1", api_key="test", max_retries=0)
    response = client.chat.completions.with_raw_response.create(model="openai/gpt-4o", messages=USER, stream=True)
    chunks = list(response.parse())

    assert response.headers["x-generation-id"] == "gen-1754441342-hIkMo7SMi0ZecQw3oR4d"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Pebbles and Skipper."
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.model_extra is not None
    assert usage.model_extra["cost"] == 0.0001025


def test_anthropic_sdk_reads_the_recorded_stream(server: FakeServer) -> None:
    server.route("POST", "/v1/messages", Replay("anthropic/messages_stream_text.sse"))

    assert anthropic_text(server) == "- Captain\n- Scoop"
    request = server.requests[-1]
    assert request.headers["authorization"] == "Bearer test"  # anthropic 2.x sends no x-api-key
    assert "anthropic-version" in request.headers


def test_gemini_sdk_reads_the_recorded_stream(server: FakeServer) -> None:
    server.route("POST", "/v1beta/models/*", Replay("gemini/stream_generate_content.sse"))

    assert gemini_text(server).endswith("So, 4200 + 42 = **4242**.")
    request = server.requests[-1]
    assert request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert request.headers["x-goog-api-key"] == "test"


def test_gemini_sdk_raises_on_the_recorded_error_from_the_sse_endpoint(server: FakeServer) -> None:
    server.route("POST", "/v1beta/models/*", Replay("gemini/error_400_api_key_invalid_on_sse.json"))
    with pytest.raises(genai_errors.ClientError) as caught:
        gemini_text(server)
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"


def test_openai_sdk_reads_scripted_chunks_and_usage(server: FakeServer) -> None:
    server.route("POST", "/v1/chat/completions", Stream(openai_chunks(["Hel", "lo", " wörld"])))
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello wörld"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 20


def test_openai_sdk_reads_scripted_openrouter_chunks_with_exact_cost(server: FakeServer) -> None:
    chunks = openrouter_chunks(["Peb", "bles"], cost="0.000024150", keepalive=3)
    server.route("POST", "/api/v1/chat/completions", Stream(chunks))
    client = openai.OpenAI(base_url=server.base_url + "/api/v1", api_key="test", max_retries=0)
    parsed = list(client.chat.completions.create(model="openai/gpt-4o-mini", messages=USER, stream=True))

    assert "".join(c.choices[0].delta.content or "" for c in parsed) == "Pebbles"
    assert b'"cost":0.000024150,' in chunks[-2]
    usage = parsed[-1].usage
    assert usage is not None
    assert usage.model_extra is not None
    assert usage.model_extra["cost"] == pytest.approx(0.00002415)
    assert usage.model_extra["is_byok"] is False
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 2, 14)


def test_openai_sdk_raises_on_openrouters_midstream_error(server: FakeServer) -> None:
    error = {"code": 502, "message": "Provider disconnected"}
    server.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["Par", "tial"], error=error)))
    client = openai.OpenAI(base_url=server.base_url + "/api/v1", api_key="test", max_retries=0)
    texts: list[str] = []
    stream = client.chat.completions.create(model="openai/gpt-4o-mini", messages=USER, stream=True)
    with pytest.raises(openai.APIError, match="Provider disconnected") as caught:
        collect_text(stream, texts)
    assert "".join(texts) == "Partial"
    assert caught.value.body == error


def test_anthropic_sdk_reads_scripted_events_and_usage(server: FakeServer) -> None:
    events = anthropic_events(["Hi", " there"], input_tokens=30, cache_read=7, cache_write=5)
    server.route("POST", "/v1/messages", Stream(events))
    client = anthropic.Anthropic(base_url=server.base_url, api_key="test", max_retries=0)
    stream = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=50, messages=ANTHROPIC_USER, stream=True)
    parsed = list(stream)

    texts = [
        e.delta.text for e in parsed if isinstance(e, RawContentBlockDeltaEvent) and isinstance(e.delta, TextDelta)
    ]
    assert "".join(texts) == "Hi there"
    start = next(e for e in parsed if isinstance(e, RawMessageStartEvent))
    assert start.message.usage.cache_read_input_tokens == 7
    end = next(e for e in parsed if isinstance(e, RawMessageDeltaEvent))
    assert end.delta.stop_reason == "end_turn"
    assert (end.usage.input_tokens, end.usage.output_tokens) == (30, 2)
    assert (end.usage.cache_read_input_tokens, end.usage.cache_creation_input_tokens) == (7, 5)


def test_anthropic_stream_helper_accumulates_scripted_events(server: FakeServer) -> None:
    server.route("POST", "/v1/messages", Stream(anthropic_events(["One", ", two"], output_tokens=9)))
    client = anthropic.Anthropic(base_url=server.base_url, api_key="test", max_retries=0)
    with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=50, messages=ANTHROPIC_USER) as stream:
        assert "".join(stream.text_stream) == "One, two"
        message = stream.get_final_message()
    assert message.usage.output_tokens == 9
    assert message.stop_reason == "end_turn"


def test_gemini_sdk_reads_scripted_chunks_and_usage(server: FakeServer) -> None:
    chunks = gemini_chunks(["Bon", "jour"], prompt_tokens=5, thoughts_tokens=11, cached_tokens=3)
    server.route("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", Stream(chunks))
    client = gemini_client(server)
    parsed = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))

    assert "".join(c.text or "" for c in parsed) == "Bonjour"
    usage = parsed[-1].usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.thoughts_token_count) == (5, 2, 11)
    assert (usage.cached_content_token_count, usage.total_token_count) == (3, 18)
    assert parsed[-1].candidates is not None
    assert parsed[-1].candidates[0].finish_reason == genai_types.FinishReason.STOP


def test_httpx_reads_scripted_ollama_lines(server: FakeServer) -> None:
    server.route("POST", "/api/chat", Stream(ollama_lines(["Hel", "lo"], eval_count=2), "application/x-ndjson"))
    with (
        httpx.Client(base_url=server.base_url) as client,
        client.stream("POST", "/api/chat", json={"model": "llama3.2", "messages": USER}) as response,
    ):
        lines = [json.loads(line) for line in response.iter_lines() if line]

    assert response.headers["content-type"] == "application/x-ndjson"
    assert "".join(line["message"]["content"] for line in lines) == "Hello"
    assert lines[-1]["done"] is True
    assert lines[-1]["done_reason"] == "stop"
    assert (lines[-1]["prompt_eval_count"], lines[-1]["eval_count"]) == (26, 2)
    assert "eval_count" not in json.loads(ollama_lines(["x"])[-1])
    assert "prompt_eval_count" not in json.loads(ollama_lines(["x"], prompt_eval_count=None)[-1])


def test_httpx_reads_the_recorded_ollama_tags_and_stream(server: FakeServer) -> None:
    server.route("GET", "/api/tags", Replay("ollama/tags.from_test.json"))
    server.route("POST", "/api/chat", Replay("ollama/chat_stream.ndjson"))
    with httpx.Client(base_url=server.base_url) as client:
        tags = client.get("/api/tags").json()
        with client.stream("POST", "/api/chat", json={"model": "llama3.1"}) as response:
            lines = [json.loads(line) for line in response.iter_lines() if line]
    assert [m["name"] for m in tags["models"]][1] == "phi3.5:latest"
    assert lines[-1]["eval_count"] == 23


def test_error_replies_reach_the_sdks_as_their_error_types(server: FakeServer) -> None:
    server.route("POST", "/v1/chat/completions", Replay("openai/error_429_insufficient_quota.from_issue.json"))
    server.route("POST", "/v1/messages", Replay("anthropic/error_529_overloaded.from_issue.json"))
    server.route("GET", "/v1/models", Status(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "7"}))

    with pytest.raises(openai.RateLimitError) as quota:
        openai_text(server)
    with pytest.raises(anthropic.OverloadedError):
        anthropic_text(server)
    with pytest.raises(openai.RateLimitError) as limited:
        openai.OpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0).models.list()

    assert quota.value.code == "insufficient_quota"
    assert limited.value.response.headers["retry-after"] == "7"


# --------------------------------------------------------------------------------------------
# (3) drop_after breaks the stream after partial output
# --------------------------------------------------------------------------------------------


def test_drop_after_makes_the_openai_sdk_raise_after_partial_text(server: FakeServer) -> None:
    server.route("POST", "/v1/chat/completions", Stream(openai_chunks(["a", "b", "c"]), drop_after=3))
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)
    texts: list[str] = []
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    with pytest.raises(openai.APIConnectionError):
        collect_text(stream, texts)
    assert "".join(texts) == "ab"


def test_drop_after_makes_httpx_raise_after_partial_lines(server: FakeServer) -> None:
    server.route("POST", "/api/chat", Stream(ollama_lines(["a", "b", "c"]), "application/x-ndjson", drop_after=2))
    contents: list[str] = []
    with httpx.Client(base_url=server.base_url) as client, client.stream("POST", "/api/chat", json={}) as response:
        assert response.status_code == 200  # the headers arrived; the body breaks
        with pytest.raises(httpx.RemoteProtocolError):
            collect_lines(response, contents)
    assert contents == ["a", "b"]


def test_drop_after_zero_sends_only_the_headers(server: FakeServer) -> None:
    server.route("POST", "/v1/messages", Stream(anthropic_events(["x"]), drop_after=0))
    # anthropic 2.x does not wrap transport errors raised while iterating a stream.
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
        anthropic_text(server)


# --------------------------------------------------------------------------------------------
# (4) A client closing a held-open stream is seen at once
# --------------------------------------------------------------------------------------------


def test_openai_client_closing_a_held_stream_is_detected_within_100_ms(server: FakeServer) -> None:
    release = threading.Event()
    server.route("POST", "/v1/chat/completions", Stream(openai_chunks(["first"])[:2], hold_open=release))
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    chunks = iter(stream)
    next(chunks)
    assert next(chunks).choices[0].delta.content == "first"

    before = time.monotonic()
    stream.close()
    [closed] = server.wait_for_close(timeout=2)

    assert closed - before < 0.1
    assert not release.is_set()


async def test_async_openai_client_closing_a_held_stream_is_detected_within_100_ms(server: FakeServer) -> None:
    server.route("POST", "/v1/chat/completions", Stream(openai_chunks(["first"])[:2], hold_open=threading.Event()))
    client = openai.AsyncOpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)
    stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    chunks = aiter(stream)
    await anext(chunks)
    assert (await anext(chunks)).choices[0].delta.content == "first"

    before = time.monotonic()
    await stream.close()
    [closed] = server.wait_for_close(timeout=2)

    assert closed - before < 0.1
    await client.close()


def test_httpx_closing_a_stream_held_before_the_first_byte_is_detected(server: FakeServer) -> None:
    server.route("POST", "/api/chat", Stream(ollama_lines(["x"]), first_byte_delay=threading.Event()))
    with (
        httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(5, read=0.05)) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post("/api/chat", json={})
    before = time.monotonic()  # the timed-out client has already closed its socket
    [closed] = server.wait_for_close(timeout=2)
    assert closed - before < 0.1


def test_a_stream_read_to_the_end_records_no_close(server: FakeServer) -> None:
    release = threading.Event()
    release.set()
    server.route("POST", "/v1/chat/completions", Stream(openai_chunks(["done"]), hold_open=release))
    assert openai_text(server, model="gpt-4o-mini") == "done"
    assert server.closed_connections() == []


def test_exit_releases_held_streams_and_cuts_their_connections() -> None:
    hold = threading.Event()
    outcome: list[BaseException | bytes] = []
    with FakeServer() as fake:
        fake.route("GET", "/held", Stream([b"data: 1\n\n"], hold_open=hold))
        fake.route("GET", "/late", Stream([b"data: 1\n\n"], first_byte_delay=threading.Event()))

        def read(path: str) -> None:
            try:
                outcome.append(fetch(fake, "GET", path).read())
            except (OSError, http.client.HTTPException) as error:  # the client sees the cut connection
                outcome.append(error)

        readers = [threading.Thread(target=read, args=(path,)) for path in ("/held", "/late")]
        for reader in readers:
            reader.start()
        while len(fake.requests) < 2:  # both requests are in the server before it exits
            time.sleep(0.001)
    before_join = time.monotonic()
    for reader in readers:
        reader.join(5)

    assert hold.is_set()
    assert time.monotonic() - before_join < 2
    assert not any(reader.is_alive() for reader in readers)
    assert len(outcome) == 2
    assert fake.closed_connections() == []  # a server shutdown is not a client close


# --------------------------------------------------------------------------------------------
# (5) Replies in order, the last repeating; routes; pacing
# --------------------------------------------------------------------------------------------


def test_replies_are_served_in_order_and_the_last_repeats(server: FakeServer) -> None:
    server.route("GET", "/v1/models", Status(500, {"error": {"message": "boom"}}), Status(200, {"data": ["a"]}))
    statuses = [fetch(server, "GET", "/v1/models").status for _ in range(4)]
    assert statuses == [500, 200, 200, 200]


def test_openai_sdk_sees_a_failure_then_the_recorded_answer(server: FakeServer) -> None:
    server.route(
        "POST",
        "/v1/chat/completions",
        Status(503, {"error": {"message": "try later"}}),
        Replay("openai/chat_completions_stream_text_usage.sse"),
    )
    with pytest.raises(openai.InternalServerError):
        openai_text(server)
    assert openai_text(server) == "4200 + 42 equals 4242."


def test_later_routes_replace_earlier_ones_and_prefix_routes_match(server: FakeServer) -> None:
    server.route("GET", "/v1/models", Status(200, "old"))
    server.route("GET", "/v1/models", Status(200, "new"))
    server.route("GET", "/v1beta/*", Status(200, "short prefix"))
    server.route("GET", "/v1beta/models*", Status(200, "long prefix"))

    assert fetch(server, "GET", "/v1/models").read() == b"new"
    assert fetch(server, "GET", "/v1beta/models?pageSize=50").read() == b"long prefix"
    assert fetch(server, "GET", "/v1beta/tunedModels").read() == b"short prefix"
    assert fetch(server, "POST", "/v1/models").status == 404  # the method is part of the route
    assert [r.path for r in server.requests][:3] == ["/v1/models", "/v1beta/models?pageSize=50", "/v1beta/tunedModels"]


def test_requests_are_recorded_from_many_threads(server: FakeServer) -> None:
    server.route("POST", "/echo", Status(200, "ok"))
    threads = [
        threading.Thread(target=lambda n=n: fetch(server, "POST", f"/echo?n={n}", json.dumps({"n": n}).encode()).read())
        for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert sorted(r.json()["n"] for r in server.requests) == list(range(20))
    assert all(r.headers["content-type"] == "application/json" for r in server.requests)


def test_rate_paces_chunks_and_first_byte_delay_waits(server: FakeServer) -> None:
    server.route("GET", "/paced", Stream([b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n"], rate=20))
    server.route("GET", "/late", Stream([b"data: 1\n\n"], first_byte_delay=0.05))

    start = time.monotonic()
    assert fetch(server, "GET", "/paced").read() == b"data: 1\n\ndata: 2\n\ndata: 3\n\n"
    paced = time.monotonic() - start
    start = time.monotonic()
    assert fetch(server, "GET", "/late").read() == b"data: 1\n\n"
    late = time.monotonic() - start

    assert paced >= 0.1  # two gaps of 1/20 s
    assert late >= 0.05


# --------------------------------------------------------------------------------------------
# (6) Unmatched routes and broken replies
# --------------------------------------------------------------------------------------------


def test_unmatched_request_gets_a_json_404(server: FakeServer) -> None:
    response = fetch(server, "POST", "/v1/nothing?x=1", b"{}")
    assert response.status == 404
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(response.read()) == {"error": {"message": "no fake route for POST /v1/nothing"}}
    assert server.requests[-1].path == "/v1/nothing?x=1"


def test_openai_sdk_sees_the_404_as_not_found(server: FakeServer) -> None:
    with pytest.raises(openai.NotFoundError, match="no fake route for POST /v1/chat/completions"):
        openai_text(server)


class Explodes:
    """A reply that fails, before or after the status line went out."""

    def __init__(self, after_headers: bool) -> None:
        self.after_headers = after_headers

    def send(self, handler: FakeHandler) -> None:
        if self.after_headers:
            handler.start_response(200, [("Content-Type", "text/event-stream")])
            handler.write_chunk(b"data: 1\n\n")
        raise RuntimeError("reply bug")


def test_a_failing_reply_answers_500_and_never_hangs(server: FakeServer, capfd: pytest.CaptureFixture[str]) -> None:
    server.route("GET", "/before", Explodes(after_headers=False))
    server.route("GET", "/after", Explodes(after_headers=True))

    before = fetch(server, "GET", "/before")
    after = fetch(server, "GET", "/after")

    assert before.status == 500
    assert "reply bug" in json.loads(before.read())["error"]["message"]
    assert after.status == 200
    with pytest.raises(http.client.IncompleteRead):
        after.read()
    assert "RuntimeError: reply bug" in capfd.readouterr().err
    assert fetch(server, "GET", "/missing").status == 404  # the server still serves
