"""Google Gemini over the official google-genai SDK."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import Any

from mai_tui.core.providers.base import ChatRequest, ModelInfo, Provider, async_http_client, failure_from_exception
from mai_tui.core.providers.events import Event, Failure, ReasoningDelta, Started, TextDelta, Usage
from mai_tui.core.providers.wire import finish


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def gemini_usage(metadata: Any, generation_id: str | None) -> Usage:
    """`promptTokenCount` already includes cached content; output bills candidates + thoughts."""
    thoughts = _count(metadata.thoughts_token_count)
    return Usage(
        prompt_tokens=_count(metadata.prompt_token_count) + _count(metadata.tool_use_prompt_token_count),
        completion_tokens=_count(metadata.candidates_token_count) + thoughts,
        cached_tokens=_count(metadata.cached_content_token_count),
        reasoning_tokens=thoughts,
        generation_id=generation_id,
        raw=metadata.model_dump(mode="json", by_alias=True, exclude_none=True),
    )


class GeminiChunks:
    """The SDK's response objects -> events. Usage is cumulative per chunk: the last one counts,
    so it is kept here and emitted once at the end."""

    def __init__(self) -> None:
        self.generation_id: str | None = None
        self.usage: Usage | None = None
        self.finished = False

    def feed(self, chunk: Any) -> Iterator[Event]:
        if self.generation_id is None and chunk.response_id:
            self.generation_id = chunk.response_id
            yield Started(self.generation_id, chunk.model_version)
        for candidate in (chunk.candidates or [])[:1]:
            for part in (candidate.content.parts or []) if candidate.content else []:
                if part.text:
                    yield ReasoningDelta(part.text) if part.thought else TextDelta(part.text)
            if candidate.finish_reason is not None:
                self.finished = True
                yield finish(str(getattr(candidate.finish_reason, "value", candidate.finish_reason)))
        if chunk.usage_metadata is not None:
            self.usage = gemini_usage(chunk.usage_metadata, self.generation_id)


class GeminiProvider(Provider):
    def _make_client(self) -> Any:
        from google import genai
        from google.genai import types

        return genai.Client(
            api_key=self.api_key or "",  # explicit: never GOOGLE_API_KEY behind our back
            http_options=types.HttpOptions(
                base_url=self.base_url,
                api_version="v1beta",
                timeout=int(self.timeout * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
                httpx_async_client=async_http_client(self.timeout),
            ),
        )

    def _config(self, request: ChatRequest) -> Any:
        from google.genai import types

        return types.GenerateContentConfig(
            system_instruction=request.system or None,
            temperature=request.temperature,
            max_output_tokens=request.max_tokens,
        )

    def _contents(self, request: ChatRequest) -> list[Any]:
        from google.genai import types

        return [
            types.Content(role="model" if m.role == "assistant" else "user", parts=[types.Part(text=m.content)])
            for m in request.messages
        ]

    async def _attempt(self, request: ChatRequest) -> AsyncGenerator[Event, None]:
        chunks = GeminiChunks()
        stream: Any = None
        complete = False
        # A client of its own per stream: the SDK's stream does not close its HTTP response when
        # stopped early, so stopping means closing the client — and no other request shares it.
        client = self._make_client()
        try:
            stream = await client.aio.models.generate_content_stream(
                model=request.model, contents=self._contents(request), config=self._config(request)
            )
            async for chunk in stream:
                for event in chunks.feed(chunk):
                    yield event
        except Exception as error:
            if chunks.usage is not None:
                yield chunks.usage
            yield Failure(failure_from_exception(self.name, error))
            return
        else:
            complete = True
        finally:
            if complete and stream is not None and hasattr(stream, "aclose"):
                await stream.aclose()
            await client.aio.aclose()
        if chunks.usage is not None:
            yield chunks.usage
        if not chunks.finished:
            yield self.ended_early()

    async def list_models(self) -> list[ModelInfo]:
        try:
            models = []
            async for model in await self.client().aio.models.list():
                actions = model.supported_actions or []
                if actions and "generateContent" not in actions:
                    continue
                name = (model.name or "").removeprefix("models/")
                models.append(ModelInfo(id=name, provider=self.name, context_length=model.input_token_limit))
            return models
        except Exception as error:
            raise failure_from_exception(self.name, error) from None
