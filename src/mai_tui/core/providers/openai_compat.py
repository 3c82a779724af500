"""OpenAI Chat Completions over the official SDK: OpenAI, OpenRouter, and any compatible server."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal, InvalidOperation
from typing import Any

from mai_tui.core.providers.base import ChatRequest, ModelInfo, Provider, async_http_client, failure_from_exception
from mai_tui.core.providers.events import Event, Failure, Finish, Started
from mai_tui.core.providers.wire import OpenAIChatParser, SSEDecoder

MILLION = Decimal(1_000_000)
KEYLESS = "not-set"  # keyless local servers (Ollama /v1, llama.cpp, vLLM) still need some bearer value


def per_million(price: Any) -> Decimal | None:
    """OpenRouter prices are USD per token as decimal strings; "-1" means variable."""
    if price is None or isinstance(price, bool):
        return None
    try:
        value = Decimal(str(price))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    return (value * MILLION).normalize() if value else Decimal(0)


class OpenAICompatible(Provider):
    """Chat Completions. OpenRouter adds attribution headers and the `user` field."""

    def __init__(self, *args: Any, extra_headers: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extra_headers = extra_headers or {}

    def _make_client(self) -> Any:
        import openai

        return openai.AsyncOpenAI(
            # Always explicit: the SDK would otherwise read OPENAI_API_KEY / OPENAI_BASE_URL,
            # and one provider's key must never reach another's server.
            api_key=self.api_key or KEYLESS,
            base_url=self.base_url,
            max_retries=0,
            timeout=self.timeout,
            default_headers=self.extra_headers,
            http_client=async_http_client(self.timeout),
        )

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        if request.user and self.name == "openrouter":  # who pays: for OpenRouter's records, nobody else
            body["user"] = request.user
        return body

    async def _attempt(self, request: ChatRequest) -> AsyncGenerator[Event, None]:
        parser = OpenAIChatParser(self.name)
        finished = False
        try:
            async with self.client().chat.completions.with_streaming_response.create(**self._body(request)) as response:
                header_id = response.headers.get("x-generation-id")
                if header_id:
                    parser.generation_id = header_id
                    yield Started(header_id)
                decoder = SSEDecoder()
                async for line in response.iter_lines():
                    message = decoder.feed(line)
                    if message is None:
                        continue
                    for event in parser.feed(message[1]):
                        yield event
                        if isinstance(event, Failure):
                            return
                        finished = finished or isinstance(event, Finish)
                    if parser.done:
                        return
        except Exception as error:
            yield Failure(failure_from_exception(self.name, error))
            return
        if not finished:
            yield self.ended_early()

    async def list_models(self) -> list[ModelInfo]:
        models = []
        try:
            async for model in self.client().models.list():
                extra = model.model_extra or {}
                pricing = extra.get("pricing") or {}
                context = extra.get("context_length")
                models.append(
                    ModelInfo(
                        id=model.id,
                        provider=self.name,
                        context_length=context if isinstance(context, int) else None,
                        input_price_per_mtok=per_million(pricing.get("prompt")),
                        output_price_per_mtok=per_million(pricing.get("completion")),
                        cache_read_price_per_mtok=per_million(pricing.get("input_cache_read")),
                        cache_write_price_per_mtok=per_million(pricing.get("input_cache_write")),
                    )
                )
        except Exception as error:
            raise failure_from_exception(self.name, error) from None
        return models
