"""The one streaming contract every provider speaks.

A provider turns its SDK's stream into these few events; the chat service, the ledger
and the TUI only ever see them. A stream never raises a provider error: it ends with a
`Failure` event instead, after whatever text and usage arrived first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mai_tui.core.providers.errors import ProviderError


@dataclass(frozen=True)
class Started:
    """The provider accepted the request; its generation id when it is known this early."""

    generation_id: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    """What the provider reported, normalised so every provider means the same thing.

    `prompt_tokens` counts every input token, cached reads and cache writes included
    (OpenAI's meaning; Anthropic's `input_tokens` is widened to match). `completion_tokens`
    counts every output token, reasoning included. `cost_usd` is the provider's own figure,
    exact to the digit, or None when the provider reports no cost. `raw` keeps the
    provider's usage object as received, for the ledger.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal | None = None
    generation_id: str | None = None
    raw: Mapping[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Finish:
    """How the answer ended: "stop", "length", "tool_calls", "content_filter" or "error"."""

    reason: str
    raw_reason: str | None = None


@dataclass(frozen=True)
class Failure:
    error: ProviderError


Event = Started | TextDelta | ReasoningDelta | Usage | Finish | Failure


def _joined(parts: list[str]) -> str:
    """Join text pieces once and keep the result, so reading after every delta stays cheap."""
    if len(parts) > 1:
        parts[:] = ["".join(parts)]
    return parts[0] if parts else ""


@dataclass
class Answer:
    """Everything a stream said, gathered: what a stopped, failed or finished call leaves."""

    usage: Usage | None = None
    generation_id: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    error: ProviderError | None = None
    _text: list[str] = field(default_factory=list, repr=False)
    _reasoning: list[str] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        return _joined(self._text)

    @property
    def reasoning(self) -> str:
        return _joined(self._reasoning)

    def apply(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
        elif isinstance(event, Usage):
            self.usage = event
            self.generation_id = event.generation_id or self.generation_id
        elif isinstance(event, Started):
            self.generation_id = event.generation_id or self.generation_id
            self.model = event.model or self.model
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Failure):
            self.error = event.error
