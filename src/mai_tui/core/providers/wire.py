"""Pure parsers from each provider's wire lines to the common events.

They never raise: anything they cannot read becomes a `Failure(MALFORMED)` event. The SDKs
make the requests (auth, base URL, proxies, HTTP errors); these read the bytes, which keeps
exact decimal costs, keep-alive comments, usage inside error chunks and garbage all in
our hands, and lets a fuzz test drive them directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from mai_tui.core.providers.errors import FailureKind, ProviderError, classify
from mai_tui.core.providers.events import Event, Failure, Finish, ReasoningDelta, Started, TextDelta, Usage

_FINISH = {
    # OpenAI vocabulary is the common one; the others map onto it.
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "error": "error",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "refusal": "content_filter",
    "model_context_window_exceeded": "length",
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
}


def finish(raw: str) -> Finish:
    return Finish(
        _FINISH.get(raw, "stop" if raw.lower() == "stop" else "error" if "error" in raw.lower() else raw), raw
    )


def loads(text: str) -> Any:
    """JSON with exact decimals: a cost of 0.00002415 stays exactly that."""
    return json.loads(text, parse_float=Decimal)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return max(int(value), 0)
    return 0


def _cost(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite() and value >= 0:
        return value
    return None


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


class SSEDecoder:
    """Server-sent events from text lines: (event name, data), comments skipped."""

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> tuple[str | None, str] | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self._data:
                self._event = None
                return None
            result = (self._event, "\n".join(self._data))
            self._event, self._data = None, []
            return result
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None

    def flush(self) -> tuple[str | None, str] | None:
        """An event left open when the stream ended without its blank line."""
        return self.feed("")


def malformed(provider: str, what: str) -> Failure:
    return Failure(ProviderError(FailureKind.MALFORMED, provider, what[:120]))


# --- OpenAI Chat Completions (OpenAI, OpenRouter, Ollama /v1, any compatible server) ---------


def openai_usage(usage: Any, generation_id: str | None) -> Usage:
    return Usage(
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=_int(usage.get("completion_tokens")),
        cached_tokens=_int(_get(usage, "prompt_tokens_details", "cached_tokens")),
        cache_write_tokens=_int(_get(usage, "prompt_tokens_details", "cache_write_tokens")),
        reasoning_tokens=_int(_get(usage, "completion_tokens_details", "reasoning_tokens")),
        cost_usd=_cost(usage.get("cost")),
        generation_id=generation_id,
        raw=usage,
    )


class OpenAIChatParser:
    """`data:` payloads of a Chat Completions stream -> events."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.generation_id: str | None = None
        self.done = False

    def feed(self, data: str) -> Iterator[Event]:
        if data.strip() == "[DONE]":
            self.done = True
            return
        try:
            chunk = loads(data)
        except ValueError:
            yield malformed(self.provider, f"not JSON: {data!r}")
            return
        if not isinstance(chunk, Mapping):
            yield malformed(self.provider, f"not an object: {data!r}")
            return
        yield from self.handle(chunk)

    def handle(self, chunk: Mapping[str, Any]) -> Iterator[Event]:
        chunk_id = chunk.get("id")
        if isinstance(chunk_id, str) and chunk_id and self.generation_id is None:
            self.generation_id = chunk_id
            model = chunk.get("model")
            yield Started(chunk_id, model if isinstance(model, str) else None)
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            delta = _get(choice, "delta")
            if isinstance(delta, Mapping):
                reasoning = delta.get("reasoning") or delta.get("reasoning_content")
                if isinstance(reasoning, str) and reasoning:
                    yield ReasoningDelta(reasoning)
                content = delta.get("content")
                if isinstance(content, str) and content:
                    yield TextDelta(content)
            reason = _get(choice, "finish_reason")
            if isinstance(reason, str) and reason:
                yield finish(reason)
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            yield openai_usage(usage, self.generation_id)
        error = chunk.get("error")
        if error:
            failure = classify(self.provider, None, {"error": error})
            yield Failure(ProviderError(FailureKind.STREAM_ERROR, self.provider, failure.detail, status=None))

    def nonstream(self, body: Any) -> Iterator[Event]:
        """A whole (non-streamed) chat completion body."""
        if not isinstance(body, Mapping):
            yield malformed(self.provider, "not an object")
            return
        choices = body.get("choices")
        as_deltas = [
            {"delta": choice.get("message"), "finish_reason": choice.get("finish_reason")}
            for choice in (choices if isinstance(choices, list) else [])
            if isinstance(choice, Mapping)
        ]
        yield from self.handle({**body, "choices": as_deltas})


# --- Anthropic Messages -------------------------------------------------------------


class AnthropicParser:
    """Named SSE events of a Messages stream -> events (usage laid over as the SDK does)."""

    _USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.generation_id: str | None = None
        self.usage: dict[str, Any] = {}
        self.done = False

    def _merge(self, usage: Any) -> None:
        if isinstance(usage, Mapping):
            for key, value in usage.items():
                if value is not None:
                    self.usage[key] = value

    def current_usage(self) -> Usage:
        usage = self.usage
        cache_read = _int(usage.get("cache_read_input_tokens"))
        cache_write = _int(usage.get("cache_creation_input_tokens"))
        return Usage(
            prompt_tokens=_int(usage.get("input_tokens")) + cache_read + cache_write,
            completion_tokens=_int(usage.get("output_tokens")),
            cached_tokens=cache_read,
            cache_write_tokens=cache_write,
            reasoning_tokens=_int(_get(usage, "output_tokens_details", "thinking_tokens")),
            generation_id=self.generation_id,
            raw=dict(usage),
        )

    def feed(self, event: str | None, data: str) -> Iterator[Event]:
        try:
            payload = loads(data)
        except ValueError:
            yield malformed(self.provider, f"not JSON: {data!r}")
            return
        if not isinstance(payload, Mapping):
            yield malformed(self.provider, f"not an object: {data!r}")
            return
        kind = payload.get("type") or event
        if kind == "message_start":
            message = payload.get("message")
            if isinstance(message, Mapping):
                message_id = message.get("id")
                self.generation_id = message_id if isinstance(message_id, str) else None
                model = message.get("model")
                yield Started(self.generation_id, model if isinstance(model, str) else None)
                self._merge(message.get("usage"))
        elif kind == "content_block_delta":
            delta = payload.get("delta")
            if isinstance(delta, Mapping):
                text, thinking = delta.get("text"), delta.get("thinking")
                if delta.get("type") == "text_delta" and isinstance(text, str) and text:
                    yield TextDelta(text)
                elif delta.get("type") == "thinking_delta" and isinstance(thinking, str) and thinking:
                    yield ReasoningDelta(thinking)
        elif kind == "message_delta":
            self._merge(payload.get("usage"))
            reason = _get(payload, "delta", "stop_reason")
            if isinstance(reason, str) and reason:
                yield finish(reason)
        elif kind == "message_stop":
            self.done = True
            yield self.current_usage()
        elif kind == "error":
            failure = classify(self.provider, None, payload)
            kind_ = failure.kind if failure.kind is FailureKind.OVERLOADED else FailureKind.STREAM_ERROR
            if self.usage:
                yield self.current_usage()
            yield Failure(ProviderError(kind_, self.provider, failure.detail))

    def nonstream(self, body: Any) -> Iterator[Event]:
        if not isinstance(body, Mapping):
            yield malformed(self.provider, "not an object")
            return
        message_id = body.get("id")
        self.generation_id = message_id if isinstance(message_id, str) else None
        yield Started(self.generation_id, body.get("model") if isinstance(body.get("model"), str) else None)
        for block in body.get("content") or []:
            if isinstance(block, Mapping) and block.get("type") == "text" and isinstance(block.get("text"), str):
                yield TextDelta(block["text"])
            elif isinstance(block, Mapping) and block.get("type") == "thinking" and block.get("thinking"):
                yield ReasoningDelta(str(block["thinking"]))
        self._merge(body.get("usage"))
        reason = body.get("stop_reason")
        if isinstance(reason, str):
            yield finish(reason)
        self.done = True
        yield self.current_usage()


# --- Ollama native /api/chat (NDJSON) -----------------------------------------------------


class OllamaParser:
    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.done = False
        self.started = False

    def feed(self, line: str) -> Iterator[Event]:
        if not line or line.isspace():
            return
        try:
            payload = json.loads(line)  # Ollama reports no money: plain floats are fine here
        except ValueError:
            yield malformed(self.provider, f"not JSON: {line!r}")
            return
        if not isinstance(payload, Mapping):
            yield malformed(self.provider, f"not an object: {line!r}")
            return
        if payload.get("error"):
            yield Failure(ProviderError(FailureKind.STREAM_ERROR, self.provider, str(payload["error"])))
            return
        if not self.started:
            self.started = True
            model = payload.get("model")
            yield Started(None, model if isinstance(model, str) else None)
        message = payload.get("message")
        if isinstance(message, Mapping):
            thinking = message.get("thinking")
            if isinstance(thinking, str) and thinking:
                yield ReasoningDelta(thinking)
            content = message.get("content")
            if isinstance(content, str) and content:
                yield TextDelta(content)
        if payload.get("done") is True:
            self.done = True
            reason = payload.get("done_reason")
            yield finish(reason if isinstance(reason, str) and reason else "stop")
            raw = {k: v for k, v in payload.items() if k.endswith(("_count", "_duration"))}
            yield Usage(
                prompt_tokens=_int(payload.get("prompt_eval_count")),
                completion_tokens=_int(payload.get("eval_count")),
                raw=raw,
            )
