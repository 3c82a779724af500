"""Every recorded wire fixture's usage lands in the ledger exactly: replayed byte for byte by the
fake server, streamed into a stored answer, billed in the same transaction."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlmodel import select

from mai_tui.core.chat.streaming import stream_into
from mai_tui.core.chat.turns import prepare_turn
from mai_tui.core.context import load_context
from mai_tui.core.store.models import LedgerEntry
from mai_tui.core.usage import ledger
from mai_tui.core.usage.billing import CHARS_PER_TOKEN
from tests.fakes.server import FakeServer, Replay
from tests.providers.conftest import chat_path, make_provider
from tests.providers.fixture_expectations import EXPECTED

STREAMED = sorted(k for k, v in EXPECTED.items() if v["kind"] == "stream" and not k.endswith(".json"))


@pytest.mark.parametrize("fixture", STREAMED)
def test_fixture_usage_lands_in_the_ledger_exactly(fixture: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kind = fixture.split("/")[0]
    expected = EXPECTED[fixture]
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:9")  # Ollama needs an address, not a key
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.setenv(name, "sk-test-key-0123456789")
    context = load_context()
    turn = prepare_turn(context, "Say hello", model=f"{kind}/m")
    with FakeServer() as fake:
        fake.route("POST", chat_path(kind), Replay(fixture))
        provider = make_provider(kind, fake)
        provider.retry.attempts = 1
        asyncio.run(stream_into(context, provider, turn.request, turn.answer.id or 0, billing=turn.billing))
    with context.session(write=False) as session:
        rows = session.exec(select(LedgerEntry)).all()
        assert ledger.rollup_mismatches(session) == {}
    usage = expected["usage"]
    if usage is None and not expected["text"] and not expected["reasoning"] and expected["generation_id"] is None:
        assert rows == []  # nothing generated: nothing billed
        return
    [row] = rows
    assert row.message_id == turn.answer.id
    assert row.generation_id == expected["generation_id"]
    if usage is None:  # the stream ended before usage: an estimate, marked as one
        assert row.estimated
        assert row.completion_tokens == -(-len(expected["text"] + expected["reasoning"]) // CHARS_PER_TOKEN)
        assert row.pending == (kind == "openrouter" and expected["generation_id"] is not None)
        return
    assert (
        row.prompt_tokens,
        row.completion_tokens,
        row.cached_tokens,
        row.cache_write_tokens,
        row.reasoning_tokens,
    ) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
        usage["cached_tokens"],
        usage["cache_write_tokens"],
        usage["reasoning_tokens"],
    )
    if usage["cost_usd"] is not None:
        assert (row.cost_source, row.estimated) == ("provider", False)
        assert row.raw_cost_usd == Decimal(usage["cost_usd"])  # to the last digit written on the wire
        assert row.billed_cost_usd == Decimal(usage["cost_usd"]) * Decimal("1.3")
    else:
        assert (row.cost_source, row.estimated) == ("price_table", True)
