"""Stop, disconnect, slow servers, rate limits, errors inside a stream and garbage: each ends in
the right typed error (or a clean stop) and never hangs."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence

import pytest

from mai_tui.core.providers.base import Provider
from mai_tui.core.providers.errors import FailureKind
from mai_tui.core.providers.events import Answer, TextDelta
from tests.fakes.server import FakeServer, Status, Stream
from tests.fakes.wire import anthropic_events, gemini_chunks, ollama_lines, openai_chunks, openrouter_chunks
from tests.providers.conftest import REQUEST, chat_path, collect, make_provider

KINDS = ["openai", "openrouter", "anthropic", "gemini", "ollama"]
Builder = Callable[[Sequence[str]], list[bytes]]
BUILDERS: dict[str, Builder] = {
    "openai": openai_chunks,
    "openrouter": openrouter_chunks,
    "anthropic": anthropic_events,
    "gemini": gemini_chunks,
    "ollama": ollama_lines,
}
CONTENT_TYPE = {"ollama": "application/x-ndjson"}


def scripted(kind: str, deltas: Sequence[str], **options: object) -> Stream:
    return Stream(BUILDERS[kind](deltas), content_type=CONTENT_TYPE.get(kind, "text/event-stream"), **options)  # type: ignore[arg-type]


def content_chunks(kind: str) -> int:
    """How many leading chunks of a scripted stream come before the first text delta."""
    return {"openai": 1, "openrouter": 2, "anthropic": 3, "gemini": 0, "ollama": 0}[kind]


@pytest.mark.parametrize("kind", KINDS)
async def test_scripted_answer_streams_through(kind: str, fake: FakeServer) -> None:
    fake.route("POST", chat_path(kind), scripted(kind, ["Hel", "lo", " there"]))
    answer = await collect(make_provider(kind, fake))
    assert answer.error is None
    assert answer.text == "Hello there"
    assert answer.finish_reason == "stop"
    assert answer.usage is not None


@pytest.mark.parametrize("kind", KINDS)
async def test_stop_closes_the_connection_at_once_and_keeps_the_partial_answer(kind: str, fake: FakeServer) -> None:
    hold = threading.Event()
    chunks = BUILDERS[kind](["Partial", " answer"])[: content_chunks(kind) + 2]  # the answer is not finished
    content_type = CONTENT_TYPE.get(kind, "text/event-stream")
    fake.route("POST", chat_path(kind), Stream(chunks, content_type=content_type, hold_open=hold))
    provider = make_provider(kind, fake)
    answer = Answer()
    seen_text = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(REQUEST):
            answer.apply(event)
            if answer.text == "Partial answer":
                seen_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(seen_text.wait(), timeout=10)
    stopped_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(200):  # the server notices within its 10 ms poll; give it up to 2 s to report
        if fake.closed_connections():
            break
        await asyncio.sleep(0.01)
    await provider.close()
    [closed_at] = fake.closed_connections()
    assert closed_at - stopped_at < 0.1
    assert answer.text == "Partial answer"
    assert answer.error is None
    if kind != "ollama":  # Ollama has no generation id
        assert answer.generation_id


@pytest.mark.parametrize("kind", KINDS)
async def test_disconnect_mid_stream_is_a_network_error_with_the_partial_text(kind: str, fake: FakeServer) -> None:
    deltas = ["One", " two", " three", " four"]
    fake.route("POST", chat_path(kind), scripted(kind, deltas, drop_after=content_chunks(kind) + 2))
    answer = await asyncio.wait_for(collect(make_provider(kind, fake)), timeout=20)
    assert answer.error is not None
    assert answer.error.kind is FailureKind.NETWORK
    assert answer.text == "One two"
    assert len(fake.requests) == 1  # text had arrived: never retried


@pytest.mark.parametrize("kind", KINDS)
async def test_slow_first_byte_times_out(kind: str, fake: FakeServer) -> None:
    never = threading.Event()
    fake.route("POST", chat_path(kind), scripted(kind, ["late"], first_byte_delay=never))
    provider = make_provider(kind, fake, timeout=0.3)
    provider.retry.attempts = 1
    answer = await asyncio.wait_for(collect(provider), timeout=20)
    assert answer.error is not None
    assert answer.error.kind is FailureKind.TIMEOUT
    assert answer.error.retryable


class RecordingSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.mark.parametrize("kind", KINDS)
async def test_429_with_retry_after_is_honoured_then_the_answer_comes(kind: str, fake: FakeServer) -> None:
    limited = Status(429, {"error": {"message": "Rate limit exceeded", "code": 429}}, headers={"Retry-After": "2"})
    fake.route("POST", chat_path(kind), limited, scripted(kind, ["after", " waiting"]))
    provider = make_provider(kind, fake)
    sleep = RecordingSleep()
    provider.retry.sleep = sleep
    answer = await collect(provider)
    assert answer.error is None
    assert answer.text == "after waiting"
    assert sleep.waits == [2.0]
    assert len(fake.requests) == 2


async def test_a_long_retry_after_is_reported_not_waited_for(fake: FakeServer) -> None:
    limited = Status(429, {"error": {"message": "Rate limit exceeded", "code": 429}}, headers={"Retry-After": "120"})
    fake.route("POST", chat_path("openrouter"), limited)
    provider = make_provider("openrouter", fake)
    sleep = RecordingSleep()
    provider.retry.sleep = sleep
    answer = await collect(provider)
    assert sleep.waits == []
    assert answer.error is not None
    assert answer.error.kind is FailureKind.RATE_LIMITED
    assert "retry after 120 s" in str(answer.error)


async def test_server_errors_back_off_and_give_up_after_three_tries(fake: FakeServer) -> None:
    fake.route("POST", chat_path("openai"), Status(500, {"error": {"message": "boom"}}))
    provider = make_provider("openai", fake)
    sleep = RecordingSleep()
    provider.retry.sleep = sleep
    answer = await collect(provider)
    assert answer.error is not None
    assert answer.error.kind is FailureKind.SERVER_ERROR
    assert sleep.waits == [0.5, 1.0]
    assert len(fake.requests) == 3


async def test_errors_that_retrying_cannot_fix_are_not_retried(fake: FakeServer) -> None:
    fake.route("POST", chat_path("openai"), Status(401, {"error": {"message": "Incorrect API key provided"}}))
    answer = await collect(make_provider("openai", fake))
    assert answer.error is not None
    assert answer.error.kind is FailureKind.AUTHENTICATION
    assert len(fake.requests) == 1


async def test_openrouter_error_inside_a_200_stream(fake: FakeServer) -> None:
    chunks = openrouter_chunks(["So far"], error={"code": "server_error", "message": "Provider disconnected"})
    fake.route("POST", chat_path("openrouter"), Stream(chunks))
    answer = await collect(make_provider("openrouter", fake))
    assert answer.text == "So far"
    assert answer.error is not None
    assert answer.error.kind is FailureKind.STREAM_ERROR
    assert "Provider disconnected" in str(answer.error)


@pytest.mark.parametrize(
    ("kind", "garbage"),
    [
        ("openai", b"data: {this is not json\n\n"),
        ("openai", b"data: [1, 2, 3]\n\n"),
        ("openrouter", b"data: \xff\xfe\xfd invalid utf-8\n\n"),
        ("anthropic", b'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": \n\n'),
        ("ollama", b'{"message": {"content": 5}, "done": "maybe"}\n\x00\x01 garbage\n'),
        ("gemini", b'data: {"candidates": 17}\r\n\r\n'),
    ],
)
async def test_garbage_in_the_stream_is_a_typed_error(kind: str, garbage: bytes, fake: FakeServer) -> None:
    chunks = BUILDERS[kind](["fine"])
    fake.route(
        "POST",
        chat_path(kind),
        Stream([*chunks[:-1], garbage, chunks[-1]], content_type=CONTENT_TYPE.get(kind, "text/event-stream")),
    )
    answer = await asyncio.wait_for(collect(make_provider(kind, fake)), timeout=20)
    assert answer.error is not None
    assert answer.error.kind in {FailureKind.MALFORMED, FailureKind.NETWORK}


@pytest.mark.parametrize("kind", KINDS)
async def test_unreachable_server_is_a_network_error(kind: str) -> None:
    with FakeServer() as server:
        provider = make_provider(kind, server)
    provider.retry.attempts = 1
    answer = await asyncio.wait_for(collect(provider), timeout=20)  # the server is gone now
    assert answer.error is not None
    assert answer.error.kind is FailureKind.NETWORK


async def test_text_events_are_the_deltas_in_order(fake: FakeServer) -> None:
    fake.route("POST", chat_path("anthropic"), scripted("anthropic", ["a", "b", "c"]))
    provider: Provider = make_provider("anthropic", fake)
    texts = [e.text async for e in provider.stream(REQUEST) if isinstance(e, TextDelta)]
    await provider.close()
    assert texts == ["a", "b", "c"]
