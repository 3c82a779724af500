"""Provider failures, mapped to a small typed set with a one-line human message."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from mai_tui.core.errors import MaiError
from mai_tui.core.logs import redact
from mai_tui.i18n import _


class FailureKind(StrEnum):
    AUTHENTICATION = "authentication"
    QUOTA = "quota"
    KEY_LIMIT = "key_limit"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    BAD_REQUEST = "bad_request"
    CONTEXT_TOO_LONG = "context_too_long"
    MODEL_NOT_FOUND = "model_not_found"
    SERVER_ERROR = "server_error"
    NETWORK = "network"
    TIMEOUT = "timeout"
    STREAM_ERROR = "stream_error"
    MALFORMED = "malformed"


RETRYABLE = frozenset(
    {
        FailureKind.RATE_LIMITED,
        FailureKind.OVERLOADED,
        FailureKind.SERVER_ERROR,
        FailureKind.NETWORK,
        FailureKind.TIMEOUT,
    }
)


def _summary(kind: FailureKind) -> str:
    return {
        FailureKind.AUTHENTICATION: _("the API key was refused"),
        FailureKind.QUOTA: _("out of credits or quota"),
        FailureKind.KEY_LIMIT: _("the key's spending limit is reached"),
        FailureKind.RATE_LIMITED: _("rate limited"),
        FailureKind.OVERLOADED: _("overloaded, try again shortly"),
        FailureKind.BAD_REQUEST: _("the request was refused"),
        FailureKind.CONTEXT_TOO_LONG: _("the conversation is too long for this model"),
        FailureKind.MODEL_NOT_FOUND: _("no such model"),
        FailureKind.SERVER_ERROR: _("server error"),
        FailureKind.NETWORK: _("cannot reach the server"),
        FailureKind.TIMEOUT: _("timed out"),
        FailureKind.STREAM_ERROR: _("the answer broke off with an error"),
        FailureKind.MALFORMED: _("sent a response that cannot be read"),
    }[kind]


class ProviderError(MaiError):
    """A failed model call: what kind, from whom, and the provider's own words (exit code 3)."""

    exit_code = 3

    def __init__(
        self,
        kind: FailureKind,
        provider: str,
        detail: str = "",
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.provider = provider
        self.detail = redact(" ".join(detail.split()))[:300]
        self.status = status
        self.retry_after = retry_after
        super().__init__(str(self))

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def __str__(self) -> str:
        text = f"{self.provider}: {_summary(self.kind)}"
        if self.kind is FailureKind.RATE_LIMITED and self.retry_after:
            text += _(" (retry after {seconds:.0f} s)").format(seconds=self.retry_after)
        if self.detail:
            prefix = f"{self.status}: " if self.status else ""
            text += f" — {prefix}{self.detail}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.kind, self.provider, self.detail, self.status, self.retry_after))


def _rebuild(kind: FailureKind, provider: str, detail: str, status: int | None, retry_after: float | None) -> Any:
    return ProviderError(kind, provider, detail, status=status, retry_after=retry_after)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        value = lowered.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "prompt is too long",
    "input is too long",
    "context window",
)


def _message_and_code(body: Any) -> tuple[str, str]:
    """The provider's error message and code/type, from any of the known envelopes."""
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping):
            message = error.get("message") or ""
            code = error.get("code") or error.get("type") or error.get("status") or ""
            details = error.get("details")
            if isinstance(details, list):  # Gemini: reasons live in details[].reason
                reasons = [d.get("reason") for d in details if isinstance(d, Mapping) and d.get("reason")]
                code = " ".join([str(code), *map(str, reasons)])
            elif isinstance(details, Mapping) and details.get("error_code"):  # Anthropic spend limits
                code = f"{code} {details['error_code']}"
            metadata = error.get("metadata")
            if isinstance(metadata, Mapping) and metadata.get("error_type"):
                code = f"{code} {metadata['error_type']}"
            return str(message), str(code)
        if isinstance(error, str):  # Ollama: {"error": "model 'x' not found"}
            return error, ""
    if isinstance(body, str):
        return body, ""
    return "", ""


def classify(
    provider: str, status: int | None, body: Any = None, headers: Mapping[str, str] | None = None
) -> ProviderError:
    """Map an HTTP status and error body to a typed `ProviderError`."""
    message, code = _message_and_code(body)
    lowered = f"{message} {code}".lower()
    retry_after = retry_after_seconds(headers)

    def error(kind: FailureKind) -> ProviderError:
        return ProviderError(kind, provider, message, status=status, retry_after=retry_after)

    if any(hint in lowered for hint in _CONTEXT_HINTS):
        return error(FailureKind.CONTEXT_TOO_LONG)
    if status == 401 or "api_key_invalid" in lowered or "api key not valid" in lowered:
        return error(FailureKind.AUTHENTICATION)
    if status == 402 or "insufficient_quota" in lowered or "billing_error" in lowered:
        return error(FailureKind.QUOTA)
    if "spend_limit" in lowered or "key limit exceeded" in lowered:
        return error(FailureKind.KEY_LIMIT)
    if status == 403:
        return error(FailureKind.AUTHENTICATION)
    if status == 429:
        return error(FailureKind.RATE_LIMITED)
    if status in (503, 529) or "overloaded" in lowered:
        return error(FailureKind.OVERLOADED)
    if status == 404:
        return error(FailureKind.MODEL_NOT_FOUND)
    if status in (408, 504, 524):
        return error(FailureKind.TIMEOUT)
    if status is not None and status >= 500:
        return error(FailureKind.SERVER_ERROR)
    if status is not None and status >= 400:
        return error(FailureKind.BAD_REQUEST)
    return error(FailureKind.STREAM_ERROR)
