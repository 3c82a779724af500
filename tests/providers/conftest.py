"""Providers pointed at local fake servers through their base URL only."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing

import pytest

from mai_tui.core.providers.anthropic_provider import AnthropicProvider
from mai_tui.core.providers.base import ChatRequest, Message, Provider
from mai_tui.core.providers.events import Answer
from mai_tui.core.providers.gemini import GeminiProvider
from mai_tui.core.providers.ollama import OllamaProvider
from mai_tui.core.providers.openai_compat import OpenAICompatible
from tests.fakes.server import FakeServer

# Where each provider's chat endpoint lives below the fake's root, and the base URL the app gets.
PREFIX = {"openai": "/v1", "openrouter": "/api/v1", "anthropic": "", "gemini": "", "ollama": ""}


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def make_provider(kind: str, server: FakeServer, *, timeout: float = 10.0) -> Provider:
    base = server.base_url + PREFIX[kind]
    if kind in ("openai", "openrouter"):
        return OpenAICompatible(kind, base, "sk-test-key", timeout=timeout)
    if kind == "anthropic":
        return AnthropicProvider(kind, base, "sk-ant-test", timeout=timeout)
    if kind == "gemini":
        return GeminiProvider(kind, base, "gemini-test-key", timeout=timeout)
    return OllamaProvider(kind, base, None, timeout=timeout)


def chat_path(kind: str, model: str = "m") -> str:
    return {
        "openai": "/v1/chat/completions",
        "openrouter": "/api/v1/chat/completions",
        "anthropic": "/v1/messages",
        "gemini": f"/v1beta/models/{model}:streamGenerateContent",
        "ollama": "/api/chat",
    }[kind]


REQUEST = ChatRequest(model="m", messages=[Message("user", "Say hello")])


async def collect(provider: Provider, request: ChatRequest = REQUEST) -> Answer:
    answer = Answer()
    try:
        async with aclosing(provider.stream(request)) as events:
            async for event in events:
                answer.apply(event)
    finally:
        await provider.close()
    return answer


async def events_of(provider: Provider, request: ChatRequest = REQUEST) -> AsyncGenerator[object, None]:
    async with aclosing(provider.stream(request)) as events:
        async for event in events:
            yield event
