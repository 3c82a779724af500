"""A stateful fake OpenRouter account, served over real HTTP by `FakeServer`.

`FakeOpenRouter` keeps keys (inference and management), generations and model prices, and answers
the endpoints a usage-sync worker needs the way OpenRouter documents them
(shared/reference/provider-apis.md §1): streamed and plain chat completions with `usage.cost`,
`GET /generation`, `GET /key` (and `/auth/key`), `/keys` CRUD, `GET /activity`, `GET /models`
and `GET /credits`. Usage made outside the app is injected with `spend()`.

Money is `Decimal` throughout and goes on the wire as exact JSON numbers (`0.00002415`, never
`2.4150000000000002e-05`); prices in `/models` are decimal strings per token, as OpenRouter sends them.
Time comes from `clock`, so tests can put "today" wherever they like.

    with FakeOpenRouter() as fake:
        key, key_hash = fake.add_key("org-1")
        client = OpenAI(base_url=fake.base_url, api_key=key, max_retries=0)
"""

from __future__ import annotations

import hashlib
import json
import re
import string
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from tests.fakes.server import Dynamic, FakeServer, RecordedRequest, Reply, Status, Stream
from tests.fakes.wire import CREATED, openrouter_chunks

API_PREFIX: Final = "/api/v1"
ACTIVITY_DAYS: Final = 30  # /activity covers this many completed UTC days
KEYS_PAGE_SIZE: Final = 100  # GET /keys returns at most this many keys per page
DEFAULT_REPLY: Final[tuple[str, ...]] = ("Hello", " from", " the", " fake", " OpenRouter", ".")

# Every required key of GenerationResponse.data (§1.5), in the spec's order.
GENERATION_REQUIRED_KEYS: Final[tuple[str, ...]] = (
    "api_type",
    "app_id",
    "cache_discount",
    "cancelled",
    "created_at",
    "data_region",
    "external_user",
    "finish_reason",
    "generation_time",
    "http_referer",
    "id",
    "is_byok",
    "latency",
    "model",
    "moderation_latency",
    "native_finish_reason",
    "native_tokens_cached",
    "native_tokens_completion",
    "native_tokens_completion_images",
    "native_tokens_prompt",
    "native_tokens_reasoning",
    "num_fetches",
    "num_input_audio_prompt",
    "num_media_completion",
    "num_media_prompt",
    "num_search_results",
    "origin",
    "preset_id",
    "provider_name",
    "provider_responses",
    "router",
    "service_tier",
    "streamed",
    "tokens_completion",
    "tokens_prompt",
    "total_cost",
    "upstream_id",
    "upstream_inference_cost",
    "usage",
    "user_agent",
    "web_search_engine",
    "workspace_id",
)

MANAGEMENT_KEY_REFUSED: Final = "Management keys cannot be used to make API calls to OpenRouter's completion endpoints"
MANAGEMENT_ONLY: Final = "Only management keys can perform this operation"
MISSING_AUTH: Final = "Missing Authentication header"
UNKNOWN_KEY: Final = "User not found."

# The spec's example message for each status (§1.4), used by fail() and the error replies.
ERROR_MESSAGES: Final[Mapping[int, str]] = {
    400: "Invalid request parameters",
    401: MISSING_AUTH,
    402: "Insufficient credits. Add more using https://openrouter.ai/credits",
    403: MANAGEMENT_ONLY,
    404: "Resource not found",
    408: "Operation timed out. Please try again later.",
    413: "Request payload too large",
    422: "Invalid argument",
    429: "Rate limit exceeded",
    500: "Internal Server Error",
    502: "Provider returned error",
    503: "Service temporarily unavailable",
    524: "Request timed out. Please try again later.",
    529: "Provider returned error",
}
_ERROR_TYPES: Final[Mapping[int, str]] = {
    402: "payment_required",
    429: "rate_limit_exceeded",
    502: "provider_error",
    529: "provider_overloaded",
}
RATE_LIMIT_REQUESTS: Final = 20  # what a 429 announces in X-RateLimit-Limit

_PROVIDERS: Final[Mapping[str, str]] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google",
    "meta-llama": "Meta",
    "mistralai": "Mistral",
    "deepseek": "DeepSeek",
    "x-ai": "xAI",
}
_PERIODS: Final = ("daily", "weekly", "monthly")
_ALPHANUMERIC: Final = string.ascii_letters + string.digits
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
# Decimals are dumped as marked strings ("\x00dec:<number>\x00") and unquoted afterwards.
_DECIMAL_MARK: Final = "\x00dec:"
_MARKED_DECIMAL: Final = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')
_MARKED_DECIMAL_BYTES: Final = re.compile(rb'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


# --------------------------------------------------------------------------------------------
# Exact JSON for Decimal money
# --------------------------------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """`value` as a plain JSON number: no exponent, no trailing zeros ("0.00002415", "100", "0")."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_DECIMAL_MARK}{decimal_text(value)}\x00"
    if isinstance(value, Mapping):
        return {key: _mark(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(item) for item in value]
    return value


def dumps(value: Any) -> bytes:
    """Compact JSON (OpenRouter style) in which every Decimal is written as an exact JSON number."""
    text = json.dumps(_mark(value), separators=(",", ":"), ensure_ascii=False)
    return _MARKED_DECIMAL.sub(r"\1", text).encode()


def _unmark(chunk: bytes) -> bytes:
    return _MARKED_DECIMAL_BYTES.sub(rb"\1", chunk)


def _to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("pass money as Decimal, int or str, not float")
    try:
        result = Decimal(value)
    except InvalidOperation as error:
        raise ValueError(f"not a decimal amount: {value!r}") from error
    if not result.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return result


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    """The /keys style: 2025-08-24T10:30:00Z."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256_hex(plaintext: str) -> str:
    """OpenRouter's key hash: the lower-case sha256 hex digest of the plaintext key."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass
class ModelInfo:
    """One /models entry; `pricing` holds decimal strings in USD per token (or per request/unit)."""

    id: str
    pricing: dict[str, str]
    provider: str
    permaslug: str
    context_length: int = 128_000

    def rate(self, name: str) -> Decimal | None:
        value = self.pricing.get(name)
        return None if value is None else Decimal(value)

    def costs(self, prompt_tokens: int, cached_tokens: int, completion_tokens: int) -> tuple[Decimal, Decimal]:
        """(prompt cost, completion cost) of one request, exactly."""
        prompt_rate = Decimal(self.pricing["prompt"])
        cache_rate = self.rate("input_cache_read")
        cache_rate = prompt_rate if cache_rate is None else cache_rate
        prompt = prompt_rate * (prompt_tokens - cached_tokens) + cache_rate * cached_tokens
        prompt += self.rate("request") or Decimal(0)
        completion = Decimal(self.pricing["completion"]) * completion_tokens
        return prompt, completion


@dataclass
class FakeKey:
    """An OpenRouter API key of the fake account."""

    plaintext: str
    hash: str
    name: str
    management: bool
    created_at: datetime
    limit: Decimal | None = None
    limit_reset: str | None = None  # daily | weekly | monthly | None
    include_byok_in_limit: bool = False
    disabled: bool = False
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    base_usage: Decimal = Decimal(0)  # all-time usage from before the fake's generations
    order: int = 0

    @property
    def label(self) -> str:
        """The masked key, as OpenRouter shows it: sk-or-v1-au7...890."""
        return f"{self.plaintext[:12]}...{self.plaintext[-3:]}"


@dataclass
class Generation:
    """One request OpenRouter billed: a completion through the fake or a `spend()`."""

    id: str
    key_hash: str
    model: str
    provider_name: str
    created_at: datetime
    tokens_prompt: int
    tokens_completion: int  # includes the reasoning tokens
    tokens_reasoning: int
    tokens_cached: int
    cost: Decimal
    streamed: bool
    finish_reason: str
    external_user: str | None = None
    session_id: str | None = None
    http_referer: str | None = None
    user_agent: str | None = None
    outside: bool = False  # made with spend(), not over HTTP
    lookups: int = 0  # GET /generation calls by its key so far

    def data(self) -> dict[str, Any]:
        """The `data` object of GET /generation: every required key, the unknown ones null."""
        return {
            "api_type": "completions",
            "app_id": None,
            "cache_discount": None,
            "cancelled": False,
            "created_at": self.created_at.isoformat(),
            "data_region": "global",
            "external_user": self.external_user,
            "finish_reason": self.finish_reason,
            "generation_time": 500,
            "http_referer": self.http_referer,
            "id": self.id,
            "is_byok": False,
            "latency": 250,
            "model": self.model,
            "moderation_latency": None,
            "native_finish_reason": self.finish_reason,
            "native_tokens_cached": self.tokens_cached,
            "native_tokens_completion": self.tokens_completion,
            "native_tokens_completion_images": 0,
            "native_tokens_prompt": self.tokens_prompt,
            "native_tokens_reasoning": self.tokens_reasoning,
            "num_fetches": 0,
            "num_input_audio_prompt": 0,
            "num_media_completion": 0,
            "num_media_prompt": 0,
            "num_search_results": 0,
            "origin": self.http_referer or "",
            "preset_id": None,
            "provider_name": self.provider_name,
            "provider_responses": None,
            "router": None,
            "service_tier": None,
            "streamed": self.streamed,
            "tokens_completion": self.tokens_completion,
            "tokens_prompt": self.tokens_prompt,
            "total_cost": self.cost,
            "upstream_id": f"chatcmpl-{self.id.rsplit('-', 1)[-1]}",
            "upstream_inference_cost": None,
            "usage": self.cost,
            "user_agent": self.user_agent,
            "web_search_engine": None,
            "workspace_id": None,
            "request_id": f"req-{self.id.removeprefix('gen-')}",
            "session_id": self.session_id,
        }


@dataclass(frozen=True)
class KeyUsage:
    """A key's counters at the fake's clock (USD)."""

    usage: Decimal
    usage_daily: Decimal
    usage_weekly: Decimal
    usage_monthly: Decimal
    limit_remaining: Decimal | None


@dataclass
class _Fault:
    suffix: str
    status: int
    remaining: int
    retry_after: float | None
    message: str | None


class _ApiError(Exception):
    def __init__(self, status: int, message: str | None = None, metadata: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or ERROR_MESSAGES.get(status, "Error")
        self.metadata = metadata


def error_body(status: int, message: str, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """OpenRouter's error envelope: {"error": {"code": status, "message": ..., "metadata"?: ...}}."""
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata is not None:
        error["metadata"] = dict(metadata)
    return {"error": error}


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Status:
    return Status(status, dumps(body), headers=dict(headers or {}))


def _period_bounds(now: datetime, period: str) -> tuple[datetime, datetime]:
    """[start, end) of the current UTC day, week (Monday to Sunday) or month."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        return day, day + timedelta(days=1)
    if period == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def _text_length(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(
            len(part["text"]) for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return 0


def prompt_token_count(messages: Sequence[Any]) -> int:
    """The fake's tokenizer: all characters of the messages' text contents // 4 + 1."""
    return sum(_text_length(message.get("content")) for message in messages if isinstance(message, dict)) // 4 + 1


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeOpenRouter:
    """A fake OpenRouter account on a real loopback HTTP server (use it as a context manager).

    Settings tests may change between requests:
    - `clock`: returns "now" (aware UTC); stamps generations and keys, decides today/this week/this month.
    - `reply_text`: the deltas of each answer, or a function of the request body returning them.
    - `prompt_tokens`: fixed prompt token count, or None for `prompt_token_count(messages)`.
    - `reasoning_tokens`, `cached_tokens`: added to each completion's usage (see `ModelInfo.costs`).
    - `cut_before_usage`: the next N streamed completions lose their connection before the usage chunk.
    - `mid_stream_errors`: the next N streamed completions end with OpenRouter's mid-stream error chunk.
    - `generation_404s`: GET /generation answers 404 for the first N calls on each id.
    - `total_credits`: what GET /credits reports as bought.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        total_credits: Decimal | int | str = Decimal(100),
    ) -> None:
        self.server = FakeServer()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.reply_text: Sequence[str] | Callable[[Mapping[str, Any]], Sequence[str]] = DEFAULT_REPLY
        self.prompt_tokens: int | None = None
        self.reasoning_tokens = 0
        self.cached_tokens = 0
        self.cut_before_usage = 0
        self.mid_stream_errors = 0
        self.generation_404s = 0
        self.total_credits = _to_decimal(total_credits)
        self.keys: dict[str, FakeKey] = {}
        self.generations: dict[str, Generation] = {}
        self.models: dict[str, ModelInfo] = {}
        self.hits: Counter[str] = Counter()
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self._generation_count = 0
        self._key_count = 0
        self._known_hashes: set[str] = set()
        self._deleted_base_usage = Decimal(0)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            self.server.route(method, f"{API_PREFIX}/*", Dynamic(self._answer))
        self.set_price("openai/gpt-4o-mini", "0.00000015", "0.0000006")
        self.set_price(
            "anthropic/claude-sonnet-4.5",
            "0.000003",
            "0.000015",
            input_cache_read="0.0000003",
            input_cache_write="0.00000375",
        )
        self.set_price("google/gemini-2.5-flash", "0.0000003", "0.0000025", input_cache_read="0.000000075")

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT/api/v1, for OpenAI(base_url=...) and httpx."""
        return f"{self.server.base_url}{API_PREFIX}"

    def start(self) -> FakeOpenRouter:
        self.server.start()
        return self

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> FakeOpenRouter:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- configuration ------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The fake's current time (aware, UTC)."""
        return _utc(self.clock())

    def set_now(self, moment: datetime) -> None:
        """Stop the clock at `moment` (naive means UTC)."""
        frozen = _utc(moment)
        self.clock = lambda: frozen

    def set_price(
        self,
        model: str,
        prompt_per_token: str,
        completion_per_token: str,
        *,
        provider: str | None = None,
        permaslug: str | None = None,
        **extra: str,
    ) -> None:
        """Add or reprice a model: USD per token as decimal strings; `extra` adds pricing fields
        (input_cache_read, input_cache_write, request, image, internal_reasoning, ...)."""
        pricing = {"prompt": prompt_per_token, "completion": completion_per_token, "request": "0", "image": "0"}
        pricing.update(extra)
        for name, value in pricing.items():
            if not isinstance(value, str):
                raise TypeError(f"price {name} must be a decimal string, got {value!r}")
            _to_decimal(value)
        with self._lock:
            self.models[model] = ModelInfo(
                id=model,
                pricing=pricing,
                provider=provider or _provider_of(model),
                permaslug=permaslug or model,
            )

    def add_key(
        self,
        name: str,
        *,
        limit: Decimal | int | str | None = None,
        usage: Decimal | int | str = Decimal(0),
        management: bool = False,
        limit_reset: str | None = None,
        disabled: bool = False,
        expires_at: datetime | None = None,
    ) -> tuple[str, str]:
        """Create a key and return (plaintext, hash). `usage` is all-time usage from before
        (it counts in `usage`, not in the daily/weekly/monthly counters)."""
        if limit_reset is not None and limit_reset not in _PERIODS:
            raise ValueError(f"limit_reset must be one of {_PERIODS} or None")
        with self._lock:
            key = self._new_key(name, management=management)
            key.limit = None if limit is None else _to_decimal(limit)
            key.limit_reset = limit_reset
            key.base_usage = _to_decimal(usage)
            key.disabled = disabled
            key.expires_at = None if expires_at is None else _utc(expires_at)
            return key.plaintext, key.hash

    def spend(
        self,
        key: str,
        model: str,
        cost: Decimal | int | str,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        reasoning_tokens: int = 0,
        cached_tokens: int = 0,
        at: datetime | None = None,
        user: str | None = None,
    ) -> str:
        """Record usage made outside the app (another tool using the same key) and return its gen id.

        It counts in the key's counters, /activity, /credits and /generation like any other request.
        `completion_tokens` includes `reasoning_tokens`, as in OpenRouter's usage.
        """
        with self._lock:
            owner = self.key(key)
            info = self.models.get(model)
            created = self.now() if at is None else _utc(at)
            generation = Generation(
                id=self._next_generation_id(created),
                key_hash=owner.hash,
                model=model,
                provider_name=info.provider if info else _provider_of(model),
                created_at=created,
                tokens_prompt=prompt_tokens,
                tokens_completion=completion_tokens,
                tokens_reasoning=reasoning_tokens,
                tokens_cached=cached_tokens,
                cost=_to_decimal(cost),
                streamed=False,
                finish_reason="stop",
                external_user=user,
                outside=True,
            )
            self.generations[generation.id] = generation
            return generation.id

    def fail(
        self,
        path_suffix: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path ends with `path_suffix` with `status`.

        The reply is OpenRouter's error envelope (spec message unless `message`). A 429 carries
        X-RateLimit-Limit/Remaining/Reset; `retry_after` (seconds) adds Retry-After to any status.
        Faults come before authentication, like a rate limiter in front of the API.
        """
        with self._lock:
            self._faults.append(_Fault(path_suffix, status, times, retry_after, message))

    # -- introspection -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request the server received, in order."""
        return list(self.server.requests)

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        """The received requests whose path (query string excluded) ends with `path_suffix`."""
        return [r for r in self.server.requests if urlsplit(r.path).path.endswith(path_suffix)]

    def hit_count(self, path_suffix: str) -> int:
        """How many requests reached paths ending with `path_suffix` (faulted ones included)."""
        with self._lock:
            return sum(count for path, count in self.hits.items() if path.endswith(path_suffix))

    def key(self, plaintext_or_hash: str) -> FakeKey:
        """A key by plaintext or hash; KeyError if the account has no such key."""
        with self._lock:
            found = self.keys.get(plaintext_or_hash) or self.keys.get(sha256_hex(plaintext_or_hash))
            if found is None:
                raise KeyError(plaintext_or_hash)
            return found

    def key_usage(self, plaintext_or_hash: str) -> KeyUsage:
        """The key's usage counters at the fake's clock, as GET /key would report them."""
        with self._lock:
            return self._usage(self.key(plaintext_or_hash))

    def generations_of(self, plaintext_or_hash: str) -> list[Generation]:
        """The key's generations, oldest first."""
        with self._lock:
            owner = self.key(plaintext_or_hash).hash
            return sorted((g for g in self.generations.values() if g.key_hash == owner), key=lambda g: g.created_at)

    # -- state helpers (call with the lock held) ------------------------------------------------------

    def _new_key(self, name: str, *, management: bool) -> FakeKey:
        self._key_count += 1
        plaintext = "sk-or-v1-" + sha256_hex(f"fake-openrouter-key-{self._key_count}")
        key = FakeKey(
            plaintext=plaintext,
            hash=sha256_hex(plaintext),
            name=name,
            management=management,
            created_at=self.now(),
            order=self._key_count,
        )
        self.keys[key.hash] = key
        self._known_hashes.add(key.hash)
        return key

    def _next_generation_id(self, created: datetime) -> str:
        self._generation_count += 1
        digest = hashlib.sha256(f"fake-openrouter-generation-{self._generation_count}".encode()).digest()
        tail = "".join(_ALPHANUMERIC[byte % len(_ALPHANUMERIC)] for byte in digest[:20])
        return f"gen-{int(created.timestamp())}-{tail}"

    def _spent(self, key_hash: str, start: datetime | None = None, end: datetime | None = None) -> Decimal:
        return sum(
            (
                g.cost
                for g in self.generations.values()
                if g.key_hash == key_hash
                and (start is None or g.created_at >= start)
                and (end is None or g.created_at < end)
            ),
            Decimal(0),
        )

    def _usage(self, key: FakeKey) -> KeyUsage:
        now = self.now()
        usage = key.base_usage + self._spent(key.hash)
        periods = {period: self._spent(key.hash, *_period_bounds(now, period)) for period in _PERIODS}
        remaining: Decimal | None = None
        if key.limit is not None:
            used = usage if key.limit_reset is None else periods[key.limit_reset]
            remaining = max(Decimal(0), key.limit - used)
        return KeyUsage(usage, periods["daily"], periods["weekly"], periods["monthly"], remaining)

    def _key_object(self, key: FakeKey) -> dict[str, Any]:
        """A key as /keys and /keys/{hash} describe it (§1.10)."""
        usage = self._usage(key)
        zero = Decimal(0)
        return {
            "hash": key.hash,
            "name": key.name,
            "label": key.label,
            "disabled": key.disabled,
            "limit": key.limit,
            "limit_remaining": usage.limit_remaining,
            "limit_reset": key.limit_reset,
            "include_byok_in_limit": key.include_byok_in_limit,
            "usage": usage.usage,
            "usage_daily": usage.usage_daily,
            "usage_weekly": usage.usage_weekly,
            "usage_monthly": usage.usage_monthly,
            "byok_usage": zero,
            "byok_usage_daily": zero,
            "byok_usage_weekly": zero,
            "byok_usage_monthly": zero,
            "created_at": _stamp(key.created_at),
            "updated_at": None if key.updated_at is None else _stamp(key.updated_at),
            "expires_at": None if key.expires_at is None else _stamp(key.expires_at),
            "creator_user_id": "user_fake",
            "workspace_id": None,
        }

    def _current_key_data(self, key: FakeKey) -> dict[str, Any]:
        """The calling key as GET /key describes it (§1.6)."""
        usage = self._usage(key)
        zero = Decimal(0)
        return {
            "label": key.label,
            "limit": key.limit,
            "limit_remaining": usage.limit_remaining,
            "limit_reset": key.limit_reset,
            "include_byok_in_limit": key.include_byok_in_limit,
            "usage": usage.usage,
            "usage_daily": usage.usage_daily,
            "usage_weekly": usage.usage_weekly,
            "usage_monthly": usage.usage_monthly,
            "byok_usage": zero,
            "byok_usage_daily": zero,
            "byok_usage_weekly": zero,
            "byok_usage_monthly": zero,
            "is_free_tier": False,
            "is_management_key": key.management,
            "is_provisioning_key": key.management,
            "creator_user_id": "user_fake",
            "expires_at": None if key.expires_at is None else _stamp(key.expires_at),
            "rate_limit": {"interval": "1h", "note": "This field is deprecated and safe to ignore.", "requests": 1000},
        }

    # -- HTTP ------------------------------------------------------------------------------------------

    def _answer(self, request: RecordedRequest) -> Reply:
        address = urlsplit(request.path)
        path = address.path
        query = parse_qs(address.query, keep_blank_values=True)
        with self._lock:
            self.hits[path] += 1
            fault = self._take_fault(path)
            if fault is not None:
                return fault
            route = path.removeprefix(API_PREFIX)
            try:
                return self._route(request, route, query)
            except _ApiError as error:
                return _json(error.status, error_body(error.status, error.message, error.metadata))

    def _route(self, request: RecordedRequest, route: str, query: dict[str, list[str]]) -> Reply:
        method = request.method
        if route == "/chat/completions" and method == "POST":
            return self._chat_completion(request)
        if route == "/generation" and method == "GET":
            return self._generation(request, query)
        if route in ("/key", "/auth/key") and method == "GET":
            return _json(200, {"data": self._current_key_data(self._caller(request))})
        if route == "/keys" and method == "GET":
            return self._list_keys(request, query)
        if route == "/keys" and method == "POST":
            return self._create_key(request)
        if route.startswith("/keys/") and method in ("GET", "PATCH", "DELETE"):
            return self._one_key(request, route.removeprefix("/keys/"))
        if route == "/activity" and method == "GET":
            return self._activity(request, query)
        if route == "/models" and method == "GET":
            return _json(200, {"data": [self._model_entry(info) for info in self.models.values()]})
        if route == "/credits" and method == "GET":
            self._manager(request)
            total = self._deleted_base_usage + sum((k.base_usage for k in self.keys.values()), Decimal(0))
            total += sum((g.cost for g in self.generations.values()), Decimal(0))
            return _json(200, {"data": {"total_credits": self.total_credits, "total_usage": total}})
        raise _ApiError(404)

    def _take_fault(self, path: str) -> Reply | None:
        for fault in self._faults:
            if fault.remaining > 0 and path.endswith(fault.suffix):
                fault.remaining -= 1
                return self._fault_reply(fault)
        return None

    def _fault_reply(self, fault: _Fault) -> Reply:
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            seconds = fault.retry_after
            headers["Retry-After"] = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
        if fault.status == 429:
            wait = timedelta(seconds=fault.retry_after if fault.retry_after is not None else 60)
            headers["X-RateLimit-Limit"] = str(RATE_LIMIT_REQUESTS)
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Reset"] = str(int((self.now() + wait).timestamp() * 1000))
        message = fault.message or ERROR_MESSAGES.get(fault.status, "Error")
        error_type = _ERROR_TYPES.get(fault.status)
        metadata = None if error_type is None else {"error_type": error_type}
        return _json(fault.status, error_body(fault.status, message, metadata), headers)

    def _caller(self, request: RecordedRequest) -> FakeKey:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _ApiError(401, MISSING_AUTH)
        key = self.keys.get(sha256_hex(token))
        if key is None or key.disabled or (key.expires_at is not None and key.expires_at <= self.now()):
            raise _ApiError(401, UNKNOWN_KEY)
        return key

    def _manager(self, request: RecordedRequest) -> FakeKey:
        key = self._caller(request)
        if not key.management:
            raise _ApiError(403, MANAGEMENT_ONLY)
        return key

    @staticmethod
    def _body(request: RecordedRequest) -> dict[str, Any]:
        try:
            body = json.loads(request.body or b"{}", parse_float=Decimal)
        except ValueError as error:
            raise _ApiError(400, f"Invalid JSON body: {error}") from error
        if not isinstance(body, dict):
            raise _ApiError(400, "The request body must be a JSON object")
        return body

    # -- POST /chat/completions ------------------------------------------------------------------------

    def _chat_completion(self, request: RecordedRequest) -> Reply:
        key = self._caller(request)
        if key.management:
            raise _ApiError(403, MANAGEMENT_KEY_REFUSED)
        body = self._body(request)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _ApiError(400, "No models provided")
        info = self.models.get(model)
        if info is None:
            raise _ApiError(400, f"{model} is not a valid model ID")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _ApiError(400, 'Input required: specify "prompt" or "messages"')
        usage = self._usage(key)
        if usage.limit_remaining is not None and usage.limit_remaining <= 0:
            scope = key.limit_reset or "total"
            raise _ApiError(
                403, f"Key limit exceeded ({scope} limit). Manage it using https://openrouter.ai/settings/keys"
            )

        deltas = [str(text) for text in (self.reply_text(body) if callable(self.reply_text) else self.reply_text)]
        prompt_tokens = self.prompt_tokens if self.prompt_tokens is not None else prompt_token_count(messages)
        cached = min(self.cached_tokens, prompt_tokens)
        reasoning = self.reasoning_tokens
        completion_tokens = len(deltas) + reasoning
        prompt_cost, completion_cost = info.costs(prompt_tokens, cached, completion_tokens)
        cost = prompt_cost + completion_cost
        streamed = body.get("stream") is True
        cut = streamed and self.cut_before_usage > 0
        failed = streamed and not cut and self.mid_stream_errors > 0
        if cut:
            self.cut_before_usage -= 1
        if failed:
            self.mid_stream_errors -= 1

        created = self.now()
        user = body.get("user")
        session = body.get("session_id") or request.headers.get("x-session-id")
        generation = Generation(
            id=self._next_generation_id(created),
            key_hash=key.hash,
            model=model,
            provider_name=info.provider,
            created_at=created,
            tokens_prompt=prompt_tokens,
            tokens_completion=completion_tokens,
            tokens_reasoning=reasoning,
            tokens_cached=cached,
            cost=cost,
            streamed=streamed,
            finish_reason="error" if failed else "stop",
            external_user=user if isinstance(user, str) else None,
            session_id=session if isinstance(session, str) else None,
            http_referer=request.headers.get("http-referer"),
            user_agent=request.headers.get("user-agent"),
        )
        self.generations[generation.id] = generation

        usage_body: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "cost": cost,
            "is_byok": False,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0, "video_tokens": 0},
            "cost_details": {
                "upstream_inference_cost": None,
                "upstream_inference_prompt_cost": prompt_cost,
                "upstream_inference_completions_cost": completion_cost,
            },
            "completion_tokens_details": {"reasoning_tokens": reasoning, "image_tokens": 0},
        }
        headers = {"X-Generation-Id": generation.id}
        if not streamed:
            return _json(200, self._completion_body(generation, deltas, usage_body), headers)

        del usage_body["cost"]  # openrouter_chunks writes it from its `cost` argument
        error = {"code": "server_error", "message": "Provider disconnected unexpectedly"} if failed else None
        chunks = openrouter_chunks(
            deltas,
            model=model,
            id=generation.id,
            cost=decimal_text(cost),
            usage=_mark(usage_body),
            provider=info.provider,
            error=error,
        )
        chunks = [_unmark(chunk) for chunk in chunks]
        headers["Cache-Control"] = "no-cache"
        # The last two events are the usage chunk and [DONE]: a cut stream ends right before them.
        return Stream(chunks, headers=headers, drop_after=len(chunks) - 2 if cut else None)

    @staticmethod
    def _completion_body(generation: Generation, deltas: Sequence[str], usage: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": generation.id,
            "provider": generation.provider_name,
            "model": generation.model,
            "object": "chat.completion",
            "created": int(generation.created_at.timestamp()),
            "choices": [
                {
                    "logprobs": None,
                    "finish_reason": generation.finish_reason,
                    "native_finish_reason": generation.finish_reason,
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(deltas), "refusal": None, "reasoning": None},
                }
            ],
            "system_fingerprint": "fp_fake",
            "usage": usage,
        }

    # -- GET /generation --------------------------------------------------------------------------------

    def _generation(self, request: RecordedRequest, query: dict[str, list[str]]) -> Reply:
        key = self._caller(request)
        wanted = (query.get("id") or [""])[0]
        if not wanted:
            raise _ApiError(400, "Invalid request parameters: id is required")
        generation = self.generations.get(wanted)
        if generation is None or generation.key_hash != key.hash:
            raise _ApiError(404, f"Generation {wanted} not found")
        generation.lookups += 1
        if generation.lookups <= self.generation_404s:
            raise _ApiError(404, f"Generation {wanted} not found")
        return _json(200, {"data": generation.data()})

    # -- /keys ------------------------------------------------------------------------------------------

    def _list_keys(self, request: RecordedRequest, query: dict[str, list[str]]) -> Reply:
        self._manager(request)
        raw_offset = (query.get("offset") or ["0"])[0] or "0"
        if not raw_offset.isdigit():
            raise _ApiError(400, "offset must be a non-negative integer")
        include_disabled = (query.get("include_disabled") or ["false"])[0].lower() == "true"
        keys = sorted(
            (k for k in self.keys.values() if not k.management and (include_disabled or not k.disabled)),
            key=lambda k: k.order,
            reverse=True,  # the most recent first
        )
        offset = int(raw_offset)
        page = keys[offset : offset + KEYS_PAGE_SIZE]
        return _json(200, {"data": [self._key_object(k) for k in page]})

    def _create_key(self, request: RecordedRequest) -> Reply:
        self._manager(request)
        body = self._body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise _ApiError(400, "name is required")
        limit = self._limit_field(body)
        limit_reset = self._reset_field(body)
        include_byok = body.get("include_byok_in_limit", False)
        if not isinstance(include_byok, bool):
            raise _ApiError(400, "include_byok_in_limit must be a boolean")
        expires = body.get("expires_at")
        expires_at: datetime | None = None
        if expires is not None:
            try:
                expires_at = _utc(datetime.fromisoformat(str(expires)))
            except ValueError as error:
                raise _ApiError(400, "expires_at must be an ISO 8601 date-time") from error
        key = self._new_key(name, management=False)
        key.limit = limit
        key.limit_reset = limit_reset
        key.include_byok_in_limit = include_byok
        key.expires_at = expires_at
        return _json(201, {"data": self._key_object(key), "key": key.plaintext})

    def _one_key(self, request: RecordedRequest, key_hash: str) -> Reply:
        self._manager(request)
        key = self.keys.get(key_hash)
        if key is None or key.management:
            raise _ApiError(404, "Key not found")
        if request.method == "DELETE":
            del self.keys[key_hash]
            self._deleted_base_usage += key.base_usage
            return _json(200, {"deleted": True})
        if request.method == "PATCH":
            body = self._body(request)
            if "name" in body:
                if not isinstance(body["name"], str) or not body["name"]:
                    raise _ApiError(400, "name must be a non-empty string")
                key.name = body["name"]
            if "disabled" in body:
                if not isinstance(body["disabled"], bool):
                    raise _ApiError(400, "disabled must be a boolean")
                key.disabled = body["disabled"]
            if "limit" in body:
                key.limit = self._limit_field(body)
            if "limit_reset" in body:
                key.limit_reset = self._reset_field(body)
            if "include_byok_in_limit" in body:
                if not isinstance(body["include_byok_in_limit"], bool):
                    raise _ApiError(400, "include_byok_in_limit must be a boolean")
                key.include_byok_in_limit = body["include_byok_in_limit"]
            key.updated_at = self.now()
        return _json(200, {"data": self._key_object(key)})

    @staticmethod
    def _limit_field(body: Mapping[str, Any]) -> Decimal | None:
        limit = body.get("limit")
        if limit is None:
            return None
        if isinstance(limit, bool) or not isinstance(limit, int | Decimal) or limit < 0:
            raise _ApiError(400, "limit must be a non-negative number or null")
        return Decimal(limit)

    @staticmethod
    def _reset_field(body: Mapping[str, Any]) -> str | None:
        reset = body.get("limit_reset")
        if reset is not None and reset not in _PERIODS:
            raise _ApiError(400, "limit_reset must be daily, weekly, monthly or null")
        return reset if reset is None else str(reset)

    # -- GET /activity ----------------------------------------------------------------------------------

    def _activity(self, request: RecordedRequest, query: dict[str, list[str]]) -> Reply:
        self._manager(request)
        today = self.now().date()
        first, last = today - timedelta(days=ACTIVITY_DAYS), today - timedelta(days=1)
        wanted: date | None = None
        raw_date = _param(query, "date")
        if raw_date is not None:
            try:
                if not _DATE.fullmatch(raw_date):
                    raise ValueError(raw_date)
                wanted = date.fromisoformat(raw_date)
            except ValueError as error:
                raise _ApiError(400, "Invalid date: use YYYY-MM-DD") from error
            if not first <= wanted <= last:
                raise _ApiError(400, f"Date must be within the last {ACTIVITY_DAYS} (completed) UTC days")
        key_hash = _param(query, "api_key_hash")
        if key_hash is not None and key_hash not in self._known_hashes:
            raise _ApiError(404, "API key not found")
        return _json(200, {"data": self._activity_rows(first, last, wanted, key_hash)})

    def _activity_rows(
        self, first: date, last: date, wanted: date | None, key_hash: str | None
    ) -> list[dict[str, Any]]:
        groups: dict[tuple[date, str, str], list[Generation]] = {}
        for generation in self.generations.values():
            day = generation.created_at.date()
            if not first <= day <= last or (wanted is not None and day != wanted):
                continue
            if key_hash is not None and generation.key_hash != key_hash:
                continue
            groups.setdefault((day, generation.model, generation.provider_name), []).append(generation)
        rows: list[dict[str, Any]] = []
        # Newest day first; within a day by model, then provider.
        for (day, model, provider), members in sorted(
            groups.items(), key=lambda item: (-item[0][0].toordinal(), item[0][1:])
        ):
            info = self.models.get(model)
            rows.append(
                {
                    "date": day.isoformat(),
                    "model": model,
                    "model_permaslug": info.permaslug if info else model,
                    "endpoint_id": endpoint_id(model, provider),
                    "provider_name": provider,
                    "usage": sum((g.cost for g in members), Decimal(0)),
                    "byok_usage_inference": Decimal(0),
                    "requests": len(members),
                    "prompt_tokens": sum(g.tokens_prompt for g in members),
                    "completion_tokens": sum(g.tokens_completion for g in members),
                    "reasoning_tokens": sum(g.tokens_reasoning for g in members),
                }
            )
        return rows

    # -- GET /models ------------------------------------------------------------------------------------

    @staticmethod
    def _model_entry(info: ModelInfo) -> dict[str, Any]:
        name = f"{info.provider}: {info.id.split('/', 1)[-1]}"
        return {
            "id": info.id,
            "canonical_slug": info.permaslug,
            "name": name,
            "created": CREATED,
            "description": f"{name}, served by the fake OpenRouter.",
            "context_length": info.context_length,
            "architecture": {
                "modality": "text->text",
                "input_modalities": ["text"],
                "output_modalities": ["text"],
                "tokenizer": "Other",
                "instruct_type": None,
            },
            "pricing": dict(info.pricing),
            "top_provider": {
                "context_length": info.context_length,
                "max_completion_tokens": 16384,
                "is_moderated": False,
            },
            "per_request_limits": None,
            "supported_parameters": ["max_tokens", "temperature", "top_p", "stop", "tools", "tool_choice"],
            "default_parameters": None,
            "expiration_date": None,
            "knowledge_cutoff": None,
            "links": {"details": f"{API_PREFIX}/models/{info.id}/endpoints"},
            "supported_voices": None,
        }


def endpoint_id(model: str, provider: str) -> str:
    """The fake's stable endpoint id (a UUID) for a model served by a provider."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://openrouter.invalid/{model}/{provider}"))


def _param(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _provider_of(model: str) -> str:
    author = model.split("/", 1)[0]
    return _PROVIDERS.get(author, author.title())
