"""Conversation history at scale, on SQLite (the default database), PostgreSQL or MariaDB.

    python benchmarks/history.py [--conversations 10000] [--messages 20] [--database-url URL]

--database-url: an empty database on a PostgreSQL or MySQL/MariaDB server (the benchmark
fills it and leaves it filled; create it before and drop it after), instead of a new SQLite file.

1. Fills a fresh database with CONVERSATIONS conversations of MESSAGES messages each
   (200,000 by default), text drawn from a Zipf-distributed vocabulary of 20,000 words so
   that common words match most conversations and rare ones a handful; the full-text index
   is kept by the database the way the app's is (triggers, generated columns, FULLTEXT).
2. Search latency through `history.find` (what every key press in the search box runs):
   common, medium and rare words, two words, a three-letter prefix being typed, a tag
   filter; p50/p95 per kind and overall. Target: p95 <= 50 ms.
3. Opening the conversation list: the first page read and shown in the app's list widget
   (a headless Textual app), median of 20. Target: <= 0.3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isolation import isolate

SYLLABLES = [
    "ka", "lo", "mi", "ra", "te", "su", "no", "vi", "de", "pa", "ri", "zo", "be", "fu", "ga", "hi",
    "jo", "ke", "lu", "me", "ni", "po", "qu", "sa", "ti", "ul", "ve", "wa", "xi", "yo", "ze", "an",
]  # fmt: skip


def vocabulary(size: int, rng: random.Random) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(words)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--queries", type=int, default=60, help="per kind")
    parser.add_argument("--database-url", help="an empty PostgreSQL or MySQL/MariaDB database (default: SQLite)")
    args = parser.parse_args()
    folder = isolate("mai-bench-history-")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url

    from sqlalchemy import insert

    from mai_tui.core.chat import history
    from mai_tui.core.context import load_context
    from mai_tui.core.store.models import ChatMessage, Conversation, ConversationTag
    from mai_tui.core.store.types import utcnow

    context = load_context()
    rng = random.Random(7)  # noqa: S311 - reproducible data
    words = vocabulary(20_000, rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf: the n-th word is n times rarer
    cumulative = list(itertools.accumulate(weights))

    def sentence(count: int) -> str:
        return " ".join(rng.choices(words, cum_weights=cumulative, k=count)).capitalize() + "."

    started = time.perf_counter()
    now = utcnow()
    with context.session() as session:
        user = context.current_user(session)
        user_id = user.id
    total = args.conversations * args.messages
    with context.engine().begin() as connection:
        batch = 500
        for first in range(0, args.conversations, batch):
            count = min(batch, args.conversations - first)
            connection.execute(
                insert(Conversation),
                [
                    {
                        "id": first + n + 1,
                        "user_id": user_id,
                        "title": sentence(rng.randint(3, 7)),
                        "model": "ollama/llama3",
                        "pinned": rng.random() < 0.01,
                        "archived": rng.random() < 0.05,
                        "created_at": now,
                        "updated_at": now - timedelta(minutes=first + n),
                    }
                    for n in range(count)
                ],
            )
            messages = []
            for n in range(count):
                conversation = first + n + 1
                for index in range(args.messages):
                    message_id = (conversation - 1) * args.messages + index + 1
                    messages.append(
                        {
                            "id": message_id,
                            "conversation_id": conversation,
                            "parent_id": message_id - 1 if index else None,
                            "role": "user" if index % 2 == 0 else "assistant",
                            "content": " ".join(
                                sentence(rng.randint(6, 14)) for _ in range(2 if index % 2 == 0 else 6)
                            ),
                            "status": "complete",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
            connection.execute(insert(ChatMessage), messages)
            tags = [{"conversation_id": first + n + 1, "tag": f"t{rng.randint(1, 20)}"} for n in range(count)]
            connection.execute(insert(ConversationTag), tags)
    if args.database_url:
        size = database_size(context.engine())
    else:
        size = sum(f.stat().st_size for f in (folder / "data").rglob("*") if f.is_file()) / 2**20
    print(
        f"filled {args.conversations:,} conversations / {total:,} messages in "
        f"{time.perf_counter() - started:.0f} s ({size:.0f} MB with the full-text index)"
    )

    kinds: dict[str, Callable[[], str]] = {
        "common word": lambda: words[rng.randint(3, 20)] + " ",
        "medium word": lambda: words[rng.randint(300, 1500)] + " ",
        "rare word": lambda: words[rng.randint(8000, 19999)] + " ",
        "two words": lambda: f"{words[rng.randint(20, 400)]} {words[rng.randint(20, 400)]} ",
        "typing a prefix": lambda: words[rng.randint(0, 5000)][:3],
        "word + tag filter": lambda: f"{words[rng.randint(20, 1000)]} tag:t{rng.randint(1, 20)} ",
    }
    everything: list[float] = []
    print(f"\nsearch through history.find, {args.queries} queries per kind (first page of 100):")
    print(f"  {'kind':<20} {'p50 ms':>8} {'p95 ms':>8} {'hits (median)':>14}")
    with context.session(write=False) as session:
        me = context.current_user(session)
        history.find(session, me, "warm up")
        for kind, make in kinds.items():
            times, hits = [], []
            for _ in range(args.queries):
                typed = make()
                began = time.perf_counter()
                found = history.find(session, me, typed)
                times.append((time.perf_counter() - began) * 1000)
                hits.append(len(found))
            everything += times
            p95 = statistics.quantiles(times, n=20)[18]
            print(f"  {kind:<20} {statistics.median(times):>8.1f} {p95:>8.1f} {statistics.median(hits):>14.0f}")
    p95_all = statistics.quantiles(everything, n=20)[18]
    print(f"  {'all':<20} {statistics.median(everything):>8.1f} {p95_all:>8.1f}    target p95 <= 50 ms")

    print("\nopening the conversation list (first page read and shown), 20 times:")
    opened = asyncio.run(open_list(context, 20))
    print(f"  median {statistics.median(opened) * 1000:.0f} ms, max {max(opened) * 1000:.0f} ms    target <= 300 ms")


def database_size(engine: Any) -> float:
    """MB the server's database takes, tables and indexes (after fresh planner statistics)."""
    from sqlalchemy import text

    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
            size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        else:
            connection.execute(text("ANALYZE TABLE messages, conversations"))
            size = connection.execute(
                text(
                    "SELECT SUM(data_length + index_length) FROM information_schema.tables "
                    "WHERE table_schema = DATABASE()"
                )
            ).scalar_one()
    return float(size) / 2**20


async def open_list(context: object, repeat: int) -> list[float]:
    from textual.app import App, ComposeResult

    from mai_tui.core.chat import history
    from mai_tui.tui.widgets.conversations import ConversationList

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield ConversationList(id="conversations")

    seconds = []
    app = Bench()
    async with app.run_test(size=(120, 40)) as pilot:
        widget = app.query_one(ConversationList)
        for _ in range(repeat):
            began = time.perf_counter()
            with context.session(write=False) as session:  # type: ignore[attr-defined]
                page = history.find(session, context.current_user(session))  # type: ignore[attr-defined]
            widget.show(page, None)
            await pilot.pause()  # drawn
            seconds.append(time.perf_counter() - began)
            widget.show([], None)
            await pilot.pause()
    return seconds


if __name__ == "__main__":
    main()
