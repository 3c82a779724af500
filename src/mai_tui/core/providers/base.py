"""What every provider offers: a stream of common events, a model list, and retries done right."""

from __future__ import annotations

import asyncio
import ssl
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from mai_tui.core.providers.errors import FailureKind, ProviderError, classify
from mai_tui.core.providers.events import Event, Failure, ReasoningDelta, TextDelta

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """One model call. `model` is the provider's own id (no `provider/` prefix)."""

    model: str
    messages: Sequence[Message]
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    user: str | None = None  # the end user, for providers that take one (OpenRouter's `user`)


@dataclass(frozen=True)
class ModelInfo:
    """One entry of a provider's model list; prices in USD per million tokens."""

    id: str  # provider's model id
    provider: str
    context_length: int | None = None
    input_price_per_mtok: Decimal | None = None
    output_price_per_mtok: Decimal | None = None
    cache_read_price_per_mtok: Decimal | None = None
    cache_write_price_per_mtok: Decimal | None = None

    @property
    def full_id(self) -> str:
        return f"{self.provider}/{self.id}"


@dataclass
class RetryPolicy:
    """Retry only before the first token, only for retryable kinds, honouring Retry-After."""

    attempts: int = 3  # the first try included
    base_delay: float = 0.5
    max_wait: float = 30.0  # a provider asking for longer gets its error shown instead
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    def delay(self, attempt: int, error: ProviderError) -> float:
        if error.retry_after is not None:
            return error.retry_after
        return float(self.base_delay * 2**attempt)


@cache
def ssl_context() -> ssl.SSLContext:
    """Default trust store, or the bundle named by SSL_CERT_FILE / SSL_CERT_DIR."""
    import os

    return ssl.create_default_context(
        cafile=os.environ.get("SSL_CERT_FILE") or None, capath=os.environ.get("SSL_CERT_DIR") or None
    )


def async_http_client(timeout: float) -> Any:
    """The httpx2 client the SDKs use: our timeouts and CA bundle, proxies from the environment."""
    import httpx2

    return httpx2.AsyncClient(
        verify=ssl_context(),
        trust_env=True,  # HTTPS_PROXY, HTTP_PROXY, NO_PROXY
        timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
    )


def failure_from_exception(provider: str, error: BaseException) -> ProviderError:
    """Map any SDK or transport exception to a typed error (never lets a raw one escape)."""
    status = getattr(error, "status_code", None)
    response = getattr(error, "response", None)
    if isinstance(status, int) and response is not None:
        headers = dict(getattr(response, "headers", {}) or {})
        body: Any = getattr(error, "body", None)
        try:
            from mai_tui.core.providers.wire import loads

            body = loads(response.text)
        except Exception:  # unreadable body: keep what the SDK parsed
            body = body if body is not None else getattr(error, "message", "")
        return classify(provider, status, body, headers)
    code = getattr(error, "code", None)  # google-genai APIError
    if isinstance(code, int) and hasattr(error, "details"):
        details = getattr(error, "details", None)
        body = details if isinstance(details, Mapping) else {"error": {"message": getattr(error, "message", "")}}
        response = getattr(error, "response", None)
        genai_headers = dict(getattr(response, "headers", {}) or {}) if response is not None else None
        return classify(provider, code, body, genai_headers)
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & {"TimeoutException", "APITimeoutError", "TimeoutError", "ReadTimeout", "ConnectTimeout"}:
        return ProviderError(FailureKind.TIMEOUT, provider, str(error) or type(error).__name__)
    if names & {
        "TransportError",
        "APIConnectionError",
        "NetworkError",
        "RemoteProtocolError",
        "ConnectionError",
        "OSError",
    }:
        return ProviderError(FailureKind.NETWORK, provider, str(error) or type(error).__name__)
    return ProviderError(FailureKind.MALFORMED, provider, f"{type(error).__name__}: {error}")


class Provider(ABC):
    """A configured provider: `name` is how models are addressed (`name/model`)."""

    def __init__(
        self, name: str, base_url: str, api_key: str | None, *, timeout: float = 60.0, brand: str = "mAI"
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.brand = brand
        self.retry = RetryPolicy()
        self.org_key_hash: str | None = None  # set when this is an org's own OpenRouter key
        self._client: Any = None

    @abstractmethod
    def _make_client(self) -> Any:
        """Build the SDK (or HTTP) client; called once, on first use, so SDKs load lazily."""

    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def ended_early(self) -> Failure:
        """The connection closed cleanly but the answer had not finished."""
        return Failure(ProviderError(FailureKind.NETWORK, self.name, "the stream ended before the answer did"))

    @abstractmethod
    def _attempt(self, request: ChatRequest) -> AsyncGenerator[Event, None]:
        """One try: the events of one HTTP request, ending in `Failure` on any error."""

    @abstractmethod
    async def list_models(self) -> list[ModelInfo]:
        """The provider's models (raises `ProviderError`)."""

    async def stream(self, request: ChatRequest) -> AsyncGenerator[Event, None]:
        """The answer as events. Use with `contextlib.aclosing` so a stop closes the request."""
        attempt = 0
        while True:
            produced = False
            retry: ProviderError | None = None
            async with aclosing(self._attempt(request)) as events:
                async for event in events:
                    if not produced:  # retry decisions only matter before the first token
                        if isinstance(event, Failure) and event.error.retryable and attempt + 1 < self.retry.attempts:
                            retry = event.error
                            break
                        produced = isinstance(event, (TextDelta, ReasoningDelta))
                    yield event
            if retry is None:
                return
            delay = self.retry.delay(attempt, retry)
            if delay > self.retry.max_wait:
                yield Failure(retry)
                return
            await self.retry.sleep(delay)
            attempt += 1

    async def close(self) -> None:
        """Release pooled connections (the client is built again if the provider is used again)."""
        client, self._client = self._client, None
        if client is None:
            return
        closer = getattr(getattr(client, "aio", None), "aclose", None) or getattr(client, "aclose", None)
        await (closer or client.close)()
