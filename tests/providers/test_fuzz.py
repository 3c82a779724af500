"""Mutated recorded streams (truncated, duplicated, reordered, invalid UTF-8, flipped bytes):
the parsers never raise anything, and the adapters end every stream with events or a typed error."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator

import pytest

from mai_tui.core.providers.events import Event, Failure, Finish, ReasoningDelta, Started, TextDelta, Usage
from mai_tui.core.providers.wire import AnthropicParser, OllamaParser, OpenAIChatParser, SSEDecoder
from tests.fakes import fixture_files
from tests.fakes.server import FakeServer, Stream
from tests.providers.conftest import chat_path, collect, make_provider

EVENT_TYPES = (Started, TextDelta, ReasoningDelta, Usage, Finish, Failure)
Mutation = Callable[[random.Random, bytes], bytes]


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def duplicate_line(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    return b"\n".join([*lines[: index + 1], lines[index], *lines[index + 1 :]])


def swap_lines(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return b"\n".join(lines)


def drop_line(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def invalid_utf8(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\x00"]) + data[at:]


def flip_byte(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]


MUTATIONS: list[Mutation] = [truncate, duplicate_line, swap_lines, drop_line, invalid_utf8, flip_byte]


def mutate(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(MUTATIONS)(rng, data)
    return data


def sse_events(parser: OpenAIChatParser | AnthropicParser, text: str) -> Iterator[Event]:
    decoder = SSEDecoder()
    for line in [*text.splitlines(), ""]:
        message = decoder.feed(line)
        if message is None:
            continue
        if isinstance(parser, OpenAIChatParser):
            yield from parser.feed(message[1])
        else:
            yield from parser.feed(*message)


def parse(kind: str, data: bytes) -> list[Event]:
    text = data.decode("utf-8", errors="replace")  # how the SDKs decode lines
    if kind in ("openai", "openrouter"):
        return list(sse_events(OpenAIChatParser(kind), text))
    if kind == "anthropic":
        return list(sse_events(AnthropicParser(kind), text))
    parser = OllamaParser(kind)
    return [event for line in text.splitlines() for event in parser.feed(line)]


SOURCES = [
    (kind, path.read_bytes())
    for kind in ("openai", "openrouter", "anthropic", "ollama")
    for path in fixture_files(kind)
    if path.suffix in {".sse", ".ndjson"}
]


@pytest.mark.parametrize("seed", range(6))
def test_parsers_only_ever_yield_events(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible fuzzing, not cryptography
    cases = 0
    for _ in range(60):
        for kind, data in SOURCES:
            events = parse(kind, mutate(rng, data))
            assert all(isinstance(event, EVENT_TYPES) for event in events)
            cases += 1
    assert cases >= 60 * len(SOURCES)  # 6 seeds x 60 rounds x every recording: thousands of cases


@pytest.mark.parametrize("kind", ["openai", "openrouter", "anthropic", "gemini", "ollama"])
async def test_adapters_end_every_mutated_stream_cleanly(kind: str, fake: FakeServer) -> None:
    """Through the real SDK and HTTP: no exception escapes, and every stream ends."""
    rng = random.Random(kind)  # noqa: S311 - reproducible fuzzing, not cryptography
    sources = [p.read_bytes() for p in fixture_files(kind) if p.suffix in {".sse", ".ndjson"}]
    content_type = "application/x-ndjson" if kind == "ollama" else "text/event-stream"
    for _ in range(30):
        body = mutate(rng, rng.choice(sources))
        fake.route("POST", chat_path(kind), Stream([body], content_type=content_type))
        provider = make_provider(kind, fake)
        provider.retry.attempts = 1
        answer = await asyncio.wait_for(collect(provider), timeout=20)
        assert answer.error is None or answer.error.kind.value in {
            "malformed",
            "network",
            "stream_error",
            "overloaded",
            "timeout",
        }
