"""Anthropic Messages over the official SDK."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from mai_tui.core.providers.base import ChatRequest, ModelInfo, Provider, async_http_client, failure_from_exception
from mai_tui.core.providers.events import Event, Failure
from mai_tui.core.providers.wire import AnthropicParser, SSEDecoder

DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens on every request


class AnthropicProvider(Provider):
    def _make_client(self) -> Any:
        import anthropic

        return anthropic.AsyncAnthropic(
            api_key=self.api_key or "",  # explicit: never ANTHROPIC_API_KEY behind our back
            base_url=self.base_url,
            max_retries=0,
            timeout=self.timeout,
            http_client=async_http_client(self.timeout),
        )

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "stream": True,
        }
        if request.system:
            body["system"] = request.system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return body

    async def _attempt(self, request: ChatRequest) -> AsyncGenerator[Event, None]:
        parser = AnthropicParser(self.name)
        try:
            async with self.client().messages.with_streaming_response.create(**self._body(request)) as response:
                decoder = SSEDecoder()
                async for line in response.iter_lines():
                    message = decoder.feed(line)
                    if message is None:
                        continue
                    for event in parser.feed(*message):
                        yield event
                        if isinstance(event, Failure):
                            return
                    if parser.done:
                        return
        except Exception as error:
            if parser.usage:
                yield parser.current_usage()
            yield Failure(failure_from_exception(self.name, error))
            return
        if parser.usage:
            yield parser.current_usage()
        yield self.ended_early()

    async def list_models(self) -> list[ModelInfo]:
        try:
            models = []
            async for model in self.client().models.list():
                extra = model.model_extra or {}
                context = extra.get("max_input_tokens")
                models.append(
                    ModelInfo(
                        id=model.id, provider=self.name, context_length=context if isinstance(context, int) else None
                    )
                )
            return models
        except Exception as error:
            raise failure_from_exception(self.name, error) from None
