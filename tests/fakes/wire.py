"""Scripted answers in each provider's real wire format, as chunk lists for `Stream`.

Field names, field order and JSON spacing are copied from the recordings under WIRE:
OpenAI and OpenRouter send compact JSON with `\\n\\n` event ends, Anthropic sends compact JSON
with an `event:` line (its ping is `{"type": "ping"}`, with a space), Google sends `": "`
spacing with `\\r\\n\\r\\n` event ends, Ollama sends one compact JSON object per `\\n` line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

CREATED: Final = 1766084435  # a fixed `created` stamp, so scripted streams are deterministic

OPENAI_DEFAULT_USAGE: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "prompt_tokens": 12,
        "completion_tokens": 8,
        "total_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
)

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_COST_MARK = "\x00cost\x00"


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _sse(data: str, event: str | None = None, end: str = "\n\n") -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}{end}".encode()


# --------------------------------------------------------------------------------------------
# OpenAI Chat Completions
# --------------------------------------------------------------------------------------------


def openai_chunks(
    deltas: Sequence[str],
    *,
    model: str = "gpt-4o-mini",
    id: str = "chatcmpl-fake",
    usage: Mapping[str, Any] | None = OPENAI_DEFAULT_USAGE,
    finish_reason: str = "stop",
    usage_in_empty_choices: bool = True,
) -> list[bytes]:
    """A Chat Completions stream: role chunk, one chunk per delta, finish chunk, usage chunk, [DONE].

    With `usage` None there is no usage chunk and no `"usage": null` field (stream_options not asked).
    `usage_in_empty_choices` False puts the usage in a chunk with one empty choice (OpenRouter style).
    """

    def chunk(delta: dict[str, Any] | None, finish: str | None) -> dict[str, Any]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        body: dict[str, Any] = {
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if usage is not None:
            body["usage"] = None
        return body

    bodies = [chunk({"role": "assistant", "content": "", "refusal": None}, None)]
    bodies += [chunk({"content": text}, None) for text in deltas]
    bodies.append(chunk({}, finish_reason))
    if usage is not None:
        last = chunk(None if usage_in_empty_choices else {"role": "assistant", "content": ""}, None)
        last["usage"] = dict(usage)
        bodies.append(last)
    return [_sse(_compact(body)) for body in bodies] + [b"data: [DONE]\n\n"]


# --------------------------------------------------------------------------------------------
# OpenRouter (OpenAI format plus provider, native_finish_reason, usage.cost)
# --------------------------------------------------------------------------------------------


def openrouter_chunks(
    deltas: Sequence[str],
    *,
    model: str = "openai/gpt-4o-mini",
    id: str = "gen-1764926476-0N0195qHFzGljvYKVijc",
    cost: str = "0.00002415",
    usage: Mapping[str, Any] | None = None,
    keepalive: int = 1,
    error: Mapping[str, Any] | None = None,
    provider: str = "OpenAI",
) -> list[bytes]:
    """An OpenRouter stream: `: OPENROUTER PROCESSING` comments, chunks, the usage chunk with cost, [DONE].

    `cost` is written into the JSON exactly as given (a JSON number, not a string). `usage`
    overrides or adds usage fields (default: 12 prompt tokens, one completion token per delta).
    With `error`, the deltas are followed by OpenRouter's mid-stream error chunk
    (finish_reason "error") and the stream ends there, without usage or [DONE].
    """
    if not _JSON_NUMBER.fullmatch(cost):
        raise ValueError(f"cost must be written as a JSON number, got {cost!r}")

    def chunk(content: str, finish: str | None) -> dict[str, Any]:
        return {
            "id": id,
            "provider": provider,
            "model": model,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": content},
                    "finish_reason": finish,
                    "native_finish_reason": finish,
                    "logprobs": None,
                }
            ],
            "system_fingerprint": "fp_fake",
        }

    events = [b": OPENROUTER PROCESSING\n\n"] * keepalive
    events.append(_sse(_compact(chunk("", None))))
    events += [_sse(_compact(chunk(text, None))) for text in deltas]
    if error is not None:
        failed = {
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "provider": provider,
            "error": dict(error),
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
        }
        events.append(_sse(_compact(failed)))
        return events
    events.append(_sse(_compact(chunk("", "stop"))))
    prompt_tokens = 12
    completion_tokens = len(deltas)
    totals: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost": _COST_MARK,
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0},
        "cost_details": {"upstream_inference_cost": None},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    totals.update(usage or {})
    if usage and ("prompt_tokens" in usage or "completion_tokens" in usage) and "total_tokens" not in usage:
        totals["total_tokens"] = totals["prompt_tokens"] + totals["completion_tokens"]
    final = chunk("", None)
    del final["system_fingerprint"]  # the real usage chunk has none
    final["usage"] = totals
    events.append(_sse(_compact(final).replace(_compact(_COST_MARK), cost)))
    events.append(b"data: [DONE]\n\n")
    return events


# --------------------------------------------------------------------------------------------
# Anthropic Messages
# --------------------------------------------------------------------------------------------


def anthropic_events(
    deltas: Sequence[str],
    *,
    model: str = "claude-sonnet-4-5-20250929",
    id: str = "msg_fake",
    input_tokens: int = 12,
    output_tokens: int | None = None,
    cache_read: int = 0,
    cache_write: int = 0,
    stop_reason: str = "end_turn",
) -> list[bytes]:
    """A Messages stream: message_start, one text block (with a ping), message_delta, message_stop.

    `output_tokens` defaults to one token per delta; message_delta carries the cumulative usage.
    """
    outputs = len(deltas) if output_tokens is None else output_tokens
    message: dict[str, Any] = {
        "model": model,
        "id": id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": cache_write, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 1,
            "service_tier": "standard",
        },
    }
    final_usage = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": outputs,
    }
    block = {"type": "text", "text": ""}
    events = [
        _sse(_compact({"type": "message_start", "message": message}), "message_start"),
        _sse(_compact({"type": "content_block_start", "index": 0, "content_block": block}), "content_block_start"),
        _sse('{"type": "ping"}', "ping"),  # Anthropic's ping has a space after the colon
    ]
    for text in deltas:
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
        events.append(_sse(_compact(delta), "content_block_delta"))
    stop = {"stop_reason": stop_reason, "stop_sequence": None}
    events += [
        _sse(_compact({"type": "content_block_stop", "index": 0}), "content_block_stop"),
        _sse(_compact({"type": "message_delta", "delta": stop, "usage": final_usage}), "message_delta"),
        _sse(_compact({"type": "message_stop"}), "message_stop"),
    ]
    return events


# --------------------------------------------------------------------------------------------
# Google Gemini streamGenerateContent?alt=sse
# --------------------------------------------------------------------------------------------


def gemini_chunks(
    deltas: Sequence[str],
    *,
    model: str = "gemini-2.5-flash",
    response_id: str = "fake-response",
    prompt_tokens: int = 8,
    thoughts_tokens: int | None = None,
    cached_tokens: int | None = None,
) -> list[bytes]:
    """An alt=sse stream: one event per delta, cumulative usageMetadata, finishReason STOP on the last.

    Google ends events with `\\r\\n\\r\\n` and writes JSON with `": "` but no space after commas.
    Each delta counts as one candidate token.
    """
    chunks: list[bytes] = []
    for index, text in enumerate(deltas):
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
        if index == len(deltas) - 1:
            candidate["finishReason"] = "STOP"
        candidate["index"] = 0
        candidates_tokens = index + 1
        metadata: dict[str, Any] = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": candidates_tokens,
            "totalTokenCount": prompt_tokens + candidates_tokens + (thoughts_tokens or 0),
        }
        if cached_tokens is not None:
            metadata["cachedContentTokenCount"] = cached_tokens
        metadata["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt_tokens}]
        if cached_tokens is not None:
            metadata["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached_tokens}]
        if thoughts_tokens is not None:
            metadata["thoughtsTokenCount"] = thoughts_tokens
        body = {"candidates": [candidate], "usageMetadata": metadata, "modelVersion": model, "responseId": response_id}
        chunks.append(_sse(json.dumps(body, separators=(",", ": "), ensure_ascii=False), end="\r\n\r\n"))
    return chunks


# --------------------------------------------------------------------------------------------
# Ollama /api/chat (NDJSON)
# --------------------------------------------------------------------------------------------


def ollama_lines(
    deltas: Sequence[str],
    *,
    model: str = "llama3.2",
    prompt_eval_count: int | None = 26,
    eval_count: int | None = None,
) -> list[bytes]:
    """An /api/chat stream: one `done:false` line per delta, then the `done:true` line with counts.

    A count that is None is left out together with its duration, as Ollama's omitempty does.
    """
    start = datetime(2024, 11, 17, 8, 42, 0, 390484, tzinfo=UTC)

    def stamp(index: int) -> str:
        return (start + timedelta(milliseconds=90 * index)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    lines = [
        {"model": model, "created_at": stamp(i), "message": {"role": "assistant", "content": text}, "done": False}
        for i, text in enumerate(deltas)
    ]
    final: dict[str, Any] = {
        "model": model,
        "created_at": stamp(len(deltas)),
        "message": {"role": "assistant", "content": ""},
        "done_reason": "stop",
        "done": True,
        "total_duration": 1006884459,
        "load_duration": 22981209,
    }
    if prompt_eval_count is not None:
        final["prompt_eval_count"] = prompt_eval_count
        final["prompt_eval_duration"] = 80000000
    if eval_count is not None:
        final["eval_count"] = eval_count
        final["eval_duration"] = 902000000
    lines.append(final)
    return [(_compact(line) + "\n").encode() for line in lines]
