"""The stateful fake OpenRouter: real SDK and httpx clients against its account, keys and ledgers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from tests.fakes.openrouter import (
    DEFAULT_REPLY,
    GENERATION_REQUIRED_KEYS,
    MANAGEMENT_KEY_REFUSED,
    FakeOpenRouter,
    endpoint_id,
    sha256_hex,
)

# Wednesday 2026-03-11, 15:00 UTC: the week began on Monday 03-09, the month on 03-01.
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
MINI = "openai/gpt-4o-mini"
SONNET = "anthropic/claude-sonnet-4.5"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


@pytest.fixture
def fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(clock=lambda: NOW) as server:
        yield server


def client(fake: FakeOpenRouter, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key=key, max_retries=0)


def get(fake: FakeOpenRouter, path: str, key: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(fake.base_url + path, params=params, headers=headers, timeout=5)


def send(fake: FakeOpenRouter, method: str, path: str, key: str, body: Any = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.request(method, fake.base_url + path, json=body, headers=headers, timeout=5)


def exact(response: httpx.Response) -> Any:
    """The body with every JSON float read as a Decimal, digit for digit."""
    return json.loads(response.content, parse_float=Decimal)


def complete(fake: FakeOpenRouter, key: str, model: str = MINI, **extra: Any) -> str:
    """One streamed completion through the OpenAI SDK; returns its generation id."""
    raw = client(fake, key).chat.completions.with_raw_response.create(model=model, messages=USER, stream=True, **extra)
    for _ in raw.parse():
        pass
    return raw.headers["x-generation-id"]


# --------------------------------------------------------------------------------------------
# POST /chat/completions
# --------------------------------------------------------------------------------------------


def test_stream_carries_cost_and_one_generation_id(fake: FakeOpenRouter) -> None:
    key, key_hash = fake.add_key("org-1")
    fake.prompt_tokens = 29
    fake.reply_text = [f"w{i} " for i in range(33)]

    raw = client(fake, key).chat.completions.with_raw_response.create(model=MINI, messages=USER, stream=True)
    chunks = list(raw.parse())

    generation_id = raw.headers["x-generation-id"]
    assert generation_id.startswith("gen-")
    assert {chunk.id for chunk in chunks} == {generation_id}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "".join(fake.reply_text)
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (29, 33, 62)
    assert usage.model_extra is not None
    assert usage.model_extra["cost"] == pytest.approx(0.00002415)
    generation = fake.generations[generation_id]
    assert generation.key_hash == key_hash
    assert generation.cost == Decimal("0.00002415")  # 29 x 0.00000015 + 33 x 0.0000006
    assert generation.created_at == NOW
    assert generation.streamed


def test_usage_chunk_writes_cost_as_an_exact_json_number(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    fake.prompt_tokens = 29
    fake.reply_text = ["x"] * 33
    body = {"model": MINI, "messages": USER, "stream": True}

    response = send(fake, "POST", "/chat/completions", key, body)

    assert response.headers["content-type"] == "text/event-stream"
    assert response.text.startswith(": OPENROUTER PROCESSING\n\n")
    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line.startswith("data: {")]
    final = json.loads(events[-1], parse_float=Decimal)
    assert final["id"] == response.headers["x-generation-id"]
    assert final["usage"]["cost"] == Decimal("0.00002415")
    assert final["usage"]["cost_details"]["upstream_inference_prompt_cost"] == Decimal("0.00000435")
    assert final["usage"]["cost_details"]["upstream_inference_completions_cost"] == Decimal("0.0000198")
    assert '"cost":0.00002415,' in events[-1]
    assert response.text.endswith("data: [DONE]\n\n")


def test_token_counts_and_cost_with_cache_reads_and_reasoning(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    fake.reply_text = ["a", "b", "c"]
    fake.cached_tokens = 4
    fake.reasoning_tokens = 7
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "x" * 20},
        {"role": "user", "content": [{"type": "text", "text": "y" * 21}]},
    ]

    answer = client(fake, key).chat.completions.create(model=SONNET, messages=messages)

    # 41 characters // 4 + 1 = 11 prompt tokens (4 of them cache reads); 3 deltas + 7 reasoning = 10.
    assert answer.usage is not None
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (11, 10)
    expected = Decimal("0.000003") * 7 + Decimal("0.0000003") * 4 + Decimal("0.000015") * 10
    assert fake.generations[answer.id].cost == expected == Decimal("0.0001722")
    assert fake.generations[answer.id].tokens_reasoning == 7


def test_plain_completion_records_the_user_as_external_user(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    fake.reply_text = lambda body: ["echo:", str(body["model"])]

    response = send(fake, "POST", "/chat/completions", key, {"model": MINI, "messages": USER, "user": "org-42"})

    assert response.status_code == 200
    body = exact(response)
    assert body["id"] == response.headers["x-generation-id"]
    assert body["choices"][0]["message"]["content"] == f"echo:{MINI}"
    assert body["usage"]["cost"] == fake.generations[body["id"]].cost
    generation = fake.generations[body["id"]]
    assert generation.external_user == "org-42"
    assert not generation.streamed


def test_management_and_unknown_keys_cannot_complete(fake: FakeOpenRouter) -> None:
    manager, _ = fake.add_key("admin", management=True)

    with pytest.raises(openai.PermissionDeniedError) as refused:
        complete(fake, manager)
    assert refused.value.body == {"code": 403, "message": MANAGEMENT_KEY_REFUSED}
    with pytest.raises(openai.AuthenticationError):
        complete(fake, "sk-or-v1-unknown")
    assert get(fake, "/key", None).json() == {"error": {"code": 401, "message": "Missing Authentication header"}}
    assert fake.generations == {}


def test_cut_stream_is_still_charged(fake: FakeOpenRouter) -> None:
    key, key_hash = fake.add_key("org-1")
    fake.cut_before_usage = 1
    seen: list[ChatCompletionChunk] = []

    raw = client(fake, key).chat.completions.with_raw_response.create(model=MINI, messages=USER, stream=True)
    with pytest.raises((httpx.HTTPError, openai.APIError)):
        seen.extend(raw.parse())

    generation_id = raw.headers["x-generation-id"]
    text = "".join(choice.delta.content or "" for chunk in seen for choice in chunk.choices)
    assert text == "".join(DEFAULT_REPLY)  # every delta arrived, only the usage is lost
    assert all(chunk.usage is None for chunk in seen)
    cost = fake.generations[generation_id].cost
    assert cost > 0
    assert fake.key_usage(key_hash).usage == cost
    assert exact(get(fake, "/generation", key, id=generation_id))["data"]["total_cost"] == cost
    complete(fake, key)  # the next stream is whole again
    assert fake.cut_before_usage == 0


def test_mid_stream_error_ends_the_stream(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    fake.mid_stream_errors = 1

    with pytest.raises(openai.APIError, match="Provider disconnected"):
        complete(fake, key)
    (generation,) = fake.generations.values()
    assert generation.finish_reason == "error"


def test_key_limit_is_enforced(fake: FakeOpenRouter) -> None:
    key, key_hash = fake.add_key("capped", limit=Decimal("0.5"), usage=Decimal("0.5"))

    with pytest.raises(openai.PermissionDeniedError, match=r"Key limit exceeded \(total limit\)"):
        complete(fake, key)
    assert fake.key_usage(key_hash).limit_remaining == 0


# --------------------------------------------------------------------------------------------
# GET /generation
# --------------------------------------------------------------------------------------------


def test_generation_is_404_at_first_then_complete(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    fake.generation_404s = 2
    generation_id = complete(fake, key, user="org-42")

    first = get(fake, "/generation", key, id=generation_id)
    second = get(fake, "/generation", key, id=generation_id)
    found = get(fake, "/generation", key, id=generation_id)

    assert (first.status_code, second.status_code, found.status_code) == (404, 404, 200)
    assert first.json()["error"]["code"] == 404
    data = exact(found)["data"]
    assert set(GENERATION_REQUIRED_KEYS) <= data.keys()
    generation = fake.generations[generation_id]
    assert data["id"] == generation_id
    assert data["total_cost"] == data["usage"] == generation.cost
    assert data["model"] == MINI
    assert data["external_user"] == "org-42"
    assert data["streamed"] is True
    assert (data["tokens_prompt"], data["native_tokens_prompt"]) == (generation.tokens_prompt,) * 2
    assert (data["tokens_completion"], data["native_tokens_completion"]) == (generation.tokens_completion,) * 2
    assert datetime.fromisoformat(data["created_at"]) == NOW
    assert fake.hit_count("/generation") == 3


def test_generation_lookup_errors(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    other, _ = fake.add_key("org-2")
    generation_id = complete(fake, key)

    assert get(fake, "/generation", key).status_code == 400
    assert get(fake, "/generation", key, id="").status_code == 400
    assert get(fake, "/generation", key, id="gen-0-unknown").status_code == 404
    assert get(fake, "/generation", other, id=generation_id).status_code == 404  # not its generation
    assert get(fake, "/generation", "sk-or-v1-nope", id=generation_id).status_code == 401


# --------------------------------------------------------------------------------------------
# GET /key, /auth/key
# --------------------------------------------------------------------------------------------


def test_key_counters_follow_completions_and_outside_spend(fake: FakeOpenRouter) -> None:
    key, key_hash = fake.add_key("org-1", usage=Decimal("1.5"), limit=Decimal(5), limit_reset="monthly")
    fake.prompt_tokens = 29
    fake.reply_text = ["x"] * 33
    complete(fake, key)  # 0.00002415, today
    fake.spend(
        key, MINI, Decimal("0.1"), prompt_tokens=10, completion_tokens=5, at=datetime(2026, 3, 11, 9, tzinfo=UTC)
    )
    fake.spend(key_hash, MINI, "0.02", prompt_tokens=10, completion_tokens=5, at=datetime(2026, 3, 10, tzinfo=UTC))
    fake.spend(key, SONNET, "0.003", prompt_tokens=10, completion_tokens=5, at=datetime(2026, 3, 8, 23, 59, tzinfo=UTC))
    fake.spend(key, SONNET, "0.0004", prompt_tokens=10, completion_tokens=5, at=datetime(2026, 2, 28, tzinfo=UTC))

    for path in ("/key", "/auth/key"):
        data = exact(get(fake, path, key))["data"]
        assert data["usage"] == Decimal("1.62342415")
        assert data["usage_daily"] == Decimal("0.10002415")
        assert data["usage_weekly"] == Decimal("0.12002415")  # Monday 03-09 onwards
        assert data["usage_monthly"] == Decimal("0.12302415")
        assert data["limit"] == 5
        assert data["limit_remaining"] == Decimal("4.87697585")  # the monthly limit minus this month
        assert data["is_management_key"] is False
        assert data["is_provisioning_key"] is False
        assert data["label"] == f"{key[:12]}...{key[-3:]}"
    usage = fake.key_usage(key_hash)
    assert (usage.usage, usage.usage_daily) == (Decimal("1.62342415"), Decimal("0.10002415"))

    fake.set_now(datetime(2026, 3, 12, 0, 0, tzinfo=UTC))  # midnight UTC: a new day, same week
    data = exact(get(fake, "/key", key))["data"]
    assert (data["usage_daily"], data["usage_weekly"]) == (0, Decimal("0.12002415"))


def test_sums_are_exact_decimals_on_the_wire(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    fake.spend(key, MINI, "0.1", prompt_tokens=1, completion_tokens=1)
    fake.spend(key, MINI, "0.2", prompt_tokens=1, completion_tokens=1)
    fake.spend(key, MINI, "0.0000001", prompt_tokens=1, completion_tokens=1)

    response = get(fake, "/key", key)

    assert '"usage":0.3000001,' in response.text  # not 0.30000010000000004, not 3.000001E-1
    assert exact(response)["data"]["usage"] == Decimal("0.3000001")


def test_management_key_reads_its_own_key(fake: FakeOpenRouter) -> None:
    manager, _ = fake.add_key("admin", management=True)

    data = get(fake, "/key", manager).json()["data"]

    assert data["is_management_key"] is True
    assert data["is_provisioning_key"] is True


# --------------------------------------------------------------------------------------------
# /keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/keys"), ("POST", "/keys"), ("GET", "/keys/abc"), ("GET", "/activity"), ("GET", "/credits")],
)
def test_admin_endpoints_need_a_management_key(fake: FakeOpenRouter, method: str, path: str) -> None:
    key, _ = fake.add_key("org-1")

    response = send(fake, method, path, key, {"name": "x"} if method == "POST" else None)

    assert response.status_code == 403
    assert response.json() == {"error": {"code": 403, "message": "Only management keys can perform this operation"}}


def test_keys_crud(fake: FakeOpenRouter) -> None:
    manager, _ = fake.add_key("admin", management=True)

    created = send(fake, "POST", "/keys", manager, {"name": "org-2", "limit": 10.5, "limit_reset": "monthly"})

    assert created.status_code == 201
    body = exact(created)
    key = body["key"]
    assert key.startswith("sk-or-v1-")
    data = body["data"]
    key_hash = data["hash"]
    assert key_hash == sha256_hex(key)
    assert (data["name"], data["limit"], data["limit_remaining"], data["usage"]) == ("org-2", Decimal("10.5"), 10.5, 0)
    assert data["created_at"] == "2026-03-11T15:00:00Z"
    assert data["updated_at"] is None

    generation_id = complete(fake, key)
    cost = fake.generations[generation_id].cost
    data = exact(get(fake, f"/keys/{key_hash}", manager))["data"]
    assert (data["usage"], data["usage_daily"], data["limit_remaining"]) == (cost, cost, Decimal("10.5") - cost)

    patched = send(fake, "PATCH", f"/keys/{key_hash}", manager, {"disabled": True, "name": "org-2b"})
    assert (patched.json()["data"]["disabled"], patched.json()["data"]["name"]) == (True, "org-2b")
    assert get(fake, "/key", key).status_code == 401  # a disabled key no longer authenticates
    assert send(fake, "PATCH", f"/keys/{key_hash}", manager, {"limit_reset": "yearly"}).status_code == 400

    assert send(fake, "DELETE", f"/keys/{key_hash}", manager).json() == {"deleted": True}
    assert get(fake, f"/keys/{key_hash}", manager).status_code == 404
    assert send(fake, "DELETE", f"/keys/{key_hash}", manager).status_code == 404
    assert send(fake, "POST", "/keys", manager, {"limit": 1}).status_code == 400  # no name


def test_keys_list_pages_by_100_and_hides_disabled_keys(fake: FakeOpenRouter) -> None:
    manager, manager_hash = fake.add_key("admin", management=True)
    hashes = [fake.add_key(f"org-{i}")[1] for i in range(104)]
    _, disabled_hash = fake.add_key("old", disabled=True)

    first = get(fake, "/keys", manager).json()["data"]
    second = get(fake, "/keys", manager, offset="100").json()["data"]
    everything = get(fake, "/keys", manager, include_disabled="true").json()["data"]

    assert len(first) == 100
    assert [k["hash"] for k in first + second] == hashes[::-1]  # the most recent first
    assert everything[0]["hash"] == disabled_hash
    assert everything[0]["disabled"] is True
    assert manager_hash not in [k["hash"] for k in first + everything]
    assert set(first[0]) >= {"hash", "name", "label", "disabled", "limit", "limit_remaining", "usage", "usage_daily"}


# --------------------------------------------------------------------------------------------
# GET /activity
# --------------------------------------------------------------------------------------------


def test_activity_sums_per_model_over_completed_days(fake: FakeOpenRouter) -> None:
    manager, _ = fake.add_key("admin", management=True)
    key, key_hash = fake.add_key("org-1")
    other, _ = fake.add_key("org-2")
    yesterday = datetime(2026, 3, 10, 10, tzinfo=UTC)
    fake.spend(key, MINI, "0.001", prompt_tokens=100, completion_tokens=50, at=yesterday)
    fake.spend(key, MINI, "0.002", prompt_tokens=200, completion_tokens=70, reasoning_tokens=10, at=yesterday)
    fake.spend(key, SONNET, "0.05", prompt_tokens=1000, completion_tokens=300, reasoning_tokens=100, at=yesterday)
    fake.spend(key, MINI, "0.004", prompt_tokens=1, completion_tokens=1, at=datetime(2026, 3, 9, tzinfo=UTC))
    fake.spend(key, MINI, "0.008", prompt_tokens=1, completion_tokens=1, at=datetime(2026, 2, 8, tzinfo=UTC))
    fake.spend(key, MINI, "9", prompt_tokens=1, completion_tokens=1)  # today: not in /activity
    complete(fake, key)  # today too
    fake.spend(other, MINI, "0.5", prompt_tokens=5, completion_tokens=5, at=yesterday)

    rows = exact(get(fake, "/activity", manager, date="2026-03-10", api_key_hash=key_hash))["data"]

    assert rows == [
        {
            "date": "2026-03-10",
            "model": SONNET,
            "model_permaslug": SONNET,
            "endpoint_id": endpoint_id(SONNET, "Anthropic"),
            "provider_name": "Anthropic",
            "usage": Decimal("0.05"),
            "byok_usage_inference": 0,
            "requests": 1,
            "prompt_tokens": 1000,
            "completion_tokens": 300,
            "reasoning_tokens": 100,
        },
        {
            "date": "2026-03-10",
            "model": MINI,
            "model_permaslug": MINI,
            "endpoint_id": endpoint_id(MINI, "OpenAI"),
            "provider_name": "OpenAI",
            "usage": Decimal("0.003"),
            "byok_usage_inference": 0,
            "requests": 2,
            "prompt_tokens": 300,
            "completion_tokens": 120,
            "reasoning_tokens": 10,
        },
    ]
    window = exact(get(fake, "/activity", manager, api_key_hash=key_hash))["data"]
    assert [(row["date"], row["model"], row["usage"]) for row in window] == [
        ("2026-03-10", SONNET, Decimal("0.05")),
        ("2026-03-10", MINI, Decimal("0.003")),
        ("2026-03-09", MINI, Decimal("0.004")),
    ]  # 02-08 is 31 days back, today is not complete
    everyone = exact(get(fake, "/activity", manager, date="2026-03-10"))["data"]
    assert [(row["model"], row["usage"], row["requests"]) for row in everyone] == [
        (SONNET, Decimal("0.05"), 1),
        (MINI, Decimal("0.503"), 3),
    ]


@pytest.mark.parametrize("day", ["2026-03-11", "2026-02-08", "2026-03-12", "2026-3-10", "yesterday", "2026-02-30"])
def test_activity_rejects_dates_outside_the_completed_window(fake: FakeOpenRouter, day: str) -> None:
    manager, _ = fake.add_key("admin", management=True)

    response = get(fake, "/activity", manager, date=day)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_activity_window_starts_30_days_back(fake: FakeOpenRouter) -> None:
    manager, _ = fake.add_key("admin", management=True)

    assert get(fake, "/activity", manager, date="2026-02-09").json() == {"data": []}
    assert get(fake, "/activity", manager, api_key_hash="0" * 64).status_code == 404


# --------------------------------------------------------------------------------------------
# /models, /credits
# --------------------------------------------------------------------------------------------


def test_models_list_prices_as_decimal_strings(fake: FakeOpenRouter) -> None:
    fake.set_price("deepseek/deepseek-chat", "0.00000028", "0.00000042", input_cache_read="0.000000028")

    models = {entry["id"]: entry for entry in get(fake, "/models", None).json()["data"]}

    assert models[MINI]["pricing"]["prompt"] == "0.00000015"
    assert models[MINI]["pricing"]["completion"] == "0.0000006"
    assert models[SONNET]["pricing"]["input_cache_read"] == "0.0000003"
    assert models[SONNET]["pricing"]["input_cache_write"] == "0.00000375"
    assert models["deepseek/deepseek-chat"]["pricing"]["input_cache_read"] == "0.000000028"
    assert set(models[MINI]) >= {"id", "canonical_slug", "name", "context_length", "architecture", "top_provider"}


def test_credits_add_up_every_key(fake: FakeOpenRouter) -> None:
    manager, _ = fake.add_key("admin", management=True)
    key, _ = fake.add_key("org-1", usage="2.5")
    fake.spend(key, MINI, "0.25", prompt_tokens=1, completion_tokens=1)

    data = exact(get(fake, "/credits", manager))["data"]

    assert data == {"total_credits": 100, "total_usage": Decimal("2.75")}


# --------------------------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------------------------


def test_rate_limit_storm_then_recovery(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    generation_id = complete(fake, key)
    fake.fail("/generation", 429, times=2, retry_after=0)

    limited = [get(fake, "/generation", key, id=generation_id) for _ in range(2)]
    recovered = get(fake, "/generation", key, id=generation_id)

    for response in limited:
        assert response.status_code == 429
        assert response.headers["retry-after"] == "0"
        assert response.headers["x-ratelimit-limit"] == "20"
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert response.headers["x-ratelimit-reset"] == str(int(NOW.timestamp() * 1000))
        assert response.json() == {
            "error": {"code": 429, "message": "Rate limit exceeded", "metadata": {"error_type": "rate_limit_exceeded"}}
        }
    assert recovered.status_code == 200
    assert fake.hit_count("/generation") == 3
    assert len(fake.requests_to("/generation")) == 3


def test_server_errors_reach_the_sdk(fake: FakeOpenRouter) -> None:
    key, _ = fake.add_key("org-1")
    fake.fail("/chat/completions", 503, retry_after=2)
    fake.fail("/chat/completions", 502)

    with pytest.raises(openai.InternalServerError) as unavailable:
        complete(fake, key)
    with pytest.raises(openai.InternalServerError) as upstream:
        complete(fake, key)
    complete(fake, key)

    assert unavailable.value.status_code == 503
    assert unavailable.value.response.headers["retry-after"] == "2"
    assert unavailable.value.body == {"code": 503, "message": "Service temporarily unavailable"}
    assert upstream.value.status_code == 502
    assert len(fake.generations) == 1  # refused requests are not billed
