"""Cost of the streaming contract: our adapters against the raw SDKs on the same stream.

    python benchmarks/providers.py [--deltas 20000] [--runs 3]

A fake server in a separate process (so its CPU is not counted) streams N small deltas at
full speed in each provider's wire format. For each provider we time iterating the raw
SDK stream (what any client must do) and iterating our adapter's events, and report
events/s, CPU seconds and the adapter's overhead; then the time to first token of each,
over a one-delta stream (median of 30).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mai_tui.core.providers.base import ChatRequest, Message, async_http_client
from mai_tui.core.providers.events import TextDelta
from tests.providers.conftest import chat_path, make_provider

KINDS = ["openai", "openrouter", "anthropic", "gemini", "ollama"]
REQUEST = ChatRequest(model="bench", messages=[Message("user", "go")])


def serve(deltas: int, ready: Any) -> None:
    from tests.fakes.server import FakeServer, Stream
    from tests.fakes.wire import anthropic_events, gemini_chunks, ollama_lines, openai_chunks, openrouter_chunks

    builders: dict[str, Callable[[list[str]], list[bytes]]] = {
        "openai": openai_chunks,
        "openrouter": openrouter_chunks,
        "anthropic": anthropic_events,
        "gemini": gemini_chunks,
        "ollama": ollama_lines,
    }
    words = [f"w{i % 10} " for i in range(deltas)]
    server = FakeServer()
    for kind, build in builders.items():
        content_type = "application/x-ndjson" if kind == "ollama" else "text/event-stream"
        # One write per stream: the server's own pace must not be what we measure.
        for mode, texts in (("bench", words), ("first", ["hi"])):
            body = b"".join(build(texts))
            server.route("POST", f"/{mode}" + chat_path(kind, mode), Stream([body], content_type=content_type))
    with server:
        ready.send(server.base_url)
        ready.recv()  # block until the parent is done


class Endpoint:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url


async def raw_sdk(kind: str, base_url: str, model: str) -> Callable[[], Awaitable[int]]:
    """A function that iterates the SDK's own stream once and counts the chunks (same HTTP client
    settings as the adapters, so only the parsing differs)."""
    base_url += f"/{model}"
    http = async_http_client(120)
    if kind in ("openai", "openrouter"):
        import openai

        prefix = "/v1" if kind == "openai" else "/api/v1"
        client: Any = openai.AsyncOpenAI(base_url=base_url + prefix, api_key="k", max_retries=0, http_client=http)

        async def run() -> int:
            stream = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "go"}], stream=True
            )
            return sum([1 async for _ in stream])

        return run
    if kind == "anthropic":
        import anthropic

        aclient: Any = anthropic.AsyncAnthropic(base_url=base_url, api_key="k", max_retries=0, http_client=http)

        async def run_anthropic() -> int:
            stream = await aclient.messages.create(
                model=model, max_tokens=10, messages=[{"role": "user", "content": "go"}], stream=True
            )
            return sum([1 async for _ in stream])

        return run_anthropic
    if kind == "gemini":
        from google import genai
        from google.genai import types

        options = types.HttpOptions(base_url=base_url, api_version="v1beta", httpx_async_client=http)
        gclient = genai.Client(api_key="k", http_options=options)

        async def run_gemini() -> int:
            stream = await gclient.aio.models.generate_content_stream(model=model, contents="go")
            return sum([1 async for _ in stream])

        return run_gemini
    import httpx

    hclient = httpx.AsyncClient(base_url=base_url)

    async def run_ollama() -> int:
        count = 0
        async with hclient.stream("POST", "/api/chat", json={"model": model, "messages": []}) as response:
            async for line in response.aiter_lines():
                if line:
                    json.loads(line)
                    count += 1
        return count

    return run_ollama


async def adapter(kind: str, base_url: str, model: str) -> Callable[[], Awaitable[int]]:
    provider = make_provider(kind, Endpoint(f"{base_url}/{model}"), timeout=120)  # type: ignore[arg-type]
    request = ChatRequest(model=model, messages=REQUEST.messages)

    async def run() -> int:
        return sum([1 async for _ in provider.stream(request)])

    return run


async def measure(run: Callable[[], Awaitable[int]], runs: int) -> tuple[int, float, float]:
    await run()  # warm-up: imports, connection
    walls, cpus, events = [], [], 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        events = await run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return events, statistics.median(walls), statistics.median(cpus)


async def first_token(first: Callable[[], Awaitable[None]]) -> float:
    """Median seconds from sending the request to the first piece of answer text."""
    await first()
    times = []
    for _ in range(30):
        start = time.perf_counter()
        await first()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def raw_first(kind: str, base_url: str) -> Callable[[], Awaitable[None]]:
    base_url += "/first"
    http = async_http_client(120)
    messages = [{"role": "user", "content": "go"}]
    if kind in ("openai", "openrouter"):
        import openai

        prefix = "/v1" if kind == "openai" else "/api/v1"
        client: Any = openai.AsyncOpenAI(base_url=base_url + prefix, api_key="k", max_retries=0, http_client=http)

        async def run() -> None:
            stream = await client.chat.completions.create(model="first", messages=messages, stream=True)
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    break
            await stream.close()

        return run
    if kind == "anthropic":
        import anthropic

        aclient: Any = anthropic.AsyncAnthropic(base_url=base_url, api_key="k", max_retries=0, http_client=http)

        async def run_anthropic() -> None:
            stream = await aclient.messages.create(model="first", max_tokens=9, messages=messages, stream=True)
            async for event in stream:
                if event.type == "content_block_delta":
                    break
            await stream.close()

        return run_anthropic
    if kind == "gemini":
        from google import genai
        from google.genai import types

        options = types.HttpOptions(base_url=base_url, api_version="v1beta", httpx_async_client=http)
        gclient = genai.Client(api_key="k", http_options=options)

        async def run_gemini() -> None:
            stream: Any = await gclient.aio.models.generate_content_stream(model="first", contents="go")
            async for chunk in stream:
                if chunk.text:
                    break
            await stream.aclose()

        return run_gemini
    import httpx

    hclient = httpx.AsyncClient(base_url=base_url)

    async def run_ollama() -> None:
        async with hclient.stream("POST", "/api/chat", json={"model": "first", "messages": []}) as response:
            async for line in response.aiter_lines():
                if line and json.loads(line)["message"]["content"]:
                    break

    return run_ollama


async def adapter_first(kind: str, base_url: str) -> Callable[[], Awaitable[None]]:
    provider = make_provider(kind, Endpoint(f"{base_url}/first"), timeout=120)  # type: ignore[arg-type]
    request = ChatRequest(model="first", messages=REQUEST.messages)

    async def run() -> None:
        async with aclosing(provider.stream(request)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    break

    return run


async def main_async(base_url: str, deltas: int, runs: int) -> None:
    print(f"{deltas} deltas per stream, median of {runs} runs; CPU is this process only (server separate)\n")
    print("| provider | raw SDK events/s | adapter events/s | raw CPU s | adapter CPU s | adapter overhead (CPU) |")
    print("|---|---|---|---|---|---|")
    for kind in KINDS:
        raw_events, raw_wall, raw_cpu = await measure(await raw_sdk(kind, base_url, "bench"), runs)
        our_events, our_wall, our_cpu = await measure(await adapter(kind, base_url, "bench"), runs)
        overhead = (our_cpu - raw_cpu) / raw_cpu * 100
        print(
            f"| {kind} | {raw_events / raw_wall:,.0f} | {our_events / our_wall:,.0f} | {raw_cpu:.3f} | "
            f"{our_cpu:.3f} | {overhead:+.1f}% |"
        )
    print("\n| provider | raw SDK first token (ms) | adapter first token (ms) | added (ms) |")
    print("|---|---|---|---|")
    for kind in KINDS:
        raw = await first_token(await raw_first(kind, base_url))
        ours = await first_token(await adapter_first(kind, base_url))
        print(f"| {kind} | {raw * 1000:.2f} | {ours * 1000:.2f} | {(ours - raw) * 1000:+.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(options.deltas, child), daemon=True)
    server.start()
    base_url = parent.recv()
    try:
        asyncio.run(main_async(base_url, options.deltas, options.runs))
    finally:
        parent.send("done")
        server.join(timeout=10)


if __name__ == "__main__":
    main()
