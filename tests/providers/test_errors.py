"""Every failure kind from the status and body the providers really send."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from mai_tui.core.providers.errors import FailureKind, ProviderError, classify, retry_after_seconds


@pytest.mark.parametrize(
    ("provider", "status", "body", "kind"),
    [
        (
            "openai",
            401,
            {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}},
            FailureKind.AUTHENTICATION,
        ),
        (
            "gemini",
            400,
            {
                "error": {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT",
                    "details": [{"reason": "API_KEY_INVALID"}],
                }
            },
            FailureKind.AUTHENTICATION,
        ),
        ("openrouter", 402, {"error": {"code": 402, "message": "Insufficient credits."}}, FailureKind.QUOTA),
        (
            "openai",
            429,
            {
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
            FailureKind.QUOTA,
        ),
        (
            "openrouter",
            403,
            {
                "error": {
                    "code": 403,
                    "message": "Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys",
                }
            },
            FailureKind.KEY_LIMIT,
        ),
        (
            "anthropic",
            429,
            {
                "type": "error",
                "error": {
                    "type": "rate_limit_error",
                    "message": "Spend limit",
                    "details": {"error_code": "enforced_spend_limit_reached"},
                },
            },
            FailureKind.KEY_LIMIT,
        ),
        (
            "openrouter",
            429,
            {
                "error": {
                    "code": 429,
                    "message": "Rate limit exceeded",
                    "metadata": {"error_type": "rate_limit_exceeded"},
                }
            },
            FailureKind.RATE_LIMITED,
        ),
        (
            "anthropic",
            529,
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            FailureKind.OVERLOADED,
        ),
        (
            "openrouter",
            503,
            {"error": {"code": 503, "message": "Service temporarily unavailable"}},
            FailureKind.OVERLOADED,
        ),
        (
            "openai",
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens.",
                    "code": "context_length_exceeded",
                }
            },
            FailureKind.CONTEXT_TOO_LONG,
        ),
        (
            "anthropic",
            400,
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "prompt is too long: 210000 tokens > 200000"},
            },
            FailureKind.CONTEXT_TOO_LONG,
        ),
        ("openai", 400, {"error": {"message": "Invalid value for temperature"}}, FailureKind.BAD_REQUEST),
        ("ollama", 404, {"error": "model 'llama9' not found"}, FailureKind.MODEL_NOT_FOUND),
        ("openrouter", 502, {"error": {"code": 502, "message": "Provider returned error"}}, FailureKind.SERVER_ERROR),
        ("openrouter", 524, {"error": {"code": 524, "message": "Request timed out"}}, FailureKind.TIMEOUT),
    ],
)
def test_classify(provider: str, status: int, body: Any, kind: FailureKind) -> None:
    error = classify(provider, status, body)
    assert error.kind is kind
    assert str(error).startswith(f"{provider}: ")
    assert "\n" not in str(error)


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # a date in the past
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds(None) is None


def test_messages_never_carry_keys_and_survive_pickling() -> None:
    error = classify("openai", 401, {"error": {"message": "Incorrect API key provided: sk-proj-abcdefgh12345678"}})
    assert "sk-proj-abcdefgh12345678" not in str(error)
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert isinstance(again, ProviderError)
    assert (again.kind, str(again)) == (error.kind, str(error))
    assert error.exit_code == 3
