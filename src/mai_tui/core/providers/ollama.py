"""Ollama's native /api/chat (NDJSON over httpx), which reports token counts."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from mai_tui.core.providers.base import ChatRequest, ModelInfo, Provider, failure_from_exception
from mai_tui.core.providers.errors import ProviderError, classify
from mai_tui.core.providers.events import Event, Failure
from mai_tui.core.providers.wire import OllamaParser, loads


class OllamaProvider(Provider):
    def _make_client(self) -> Any:
        import httpx

        # trust_env: HTTPS_PROXY/NO_PROXY and SSL_CERT_FILE are honoured by httpx itself.
        return httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        )

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        body: dict[str, Any] = {"model": request.model, "messages": messages, "stream": True}
        if options:
            body["options"] = options
        return body

    async def _attempt(self, request: ChatRequest) -> AsyncGenerator[Event, None]:
        parser = OllamaParser(self.name)
        try:
            async with self.client().stream("POST", "/api/chat", json=self._body(request)) as response:
                if response.status_code >= 400:
                    raw = await response.aread()
                    try:
                        body: Any = loads(raw.decode("utf-8", "replace"))
                    except ValueError:
                        body = raw.decode("utf-8", "replace")
                    yield Failure(classify(self.name, response.status_code, body, dict(response.headers)))
                    return
                async for line in response.aiter_lines():
                    for event in parser.feed(line):
                        yield event
                        if isinstance(event, Failure):
                            return
                    if parser.done:
                        return
        except Exception as error:
            yield Failure(failure_from_exception(self.name, error))
            return
        yield self.ended_early()

    async def list_models(self) -> list[ModelInfo]:
        try:
            response = await self.client().get("/api/tags")
            if response.status_code >= 400:
                raise classify(self.name, response.status_code, response.text)
            models = loads(response.text).get("models") or []
        except ProviderError:
            raise
        except Exception as error:
            raise failure_from_exception(self.name, error) from None
        return [ModelInfo(id=str(m.get("model") or m.get("name")), provider=self.name) for m in models if m]
