"""The usage ledger at scale, on SQLite (the default database).

    python benchmarks/usage.py [--rows 1000000] [--orgs 100]

1. Fills a fresh database with ROWS ledger rows over 90 days for ORGS organizations (bulk
   insert, rollups built from them in SQL), then checks rollups == ledger.
2. `usage live` read: reports.live() for random orgs, p50/p99 over 2,000 reads.
3. Ledger insert rate through ledger.record() (row + rollup upsert, one transaction each).
4. A 30-day report by model over all orgs.
5. One OpenRouter sync cycle for ORGS orgs, each with its own key, against the fake
   OpenRouter (in-process, over loopback HTTP), then a second cycle (nothing to do).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isolation import isolate

if TYPE_CHECKING:
    from sqlmodel import Session

    from mai_tui.core.store.models import Organization


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=100)
    args = parser.parse_args()
    folder = isolate("mai-bench-usage-")

    from sqlalchemy import insert, text
    from sqlmodel import select

    from mai_tui.core.context import load_context
    from mai_tui.core.store.models import DailyUsage, LedgerEntry, Organization, User
    from mai_tui.core.store.types import utcnow
    from mai_tui.core.usage import ledger
    from mai_tui.core.usage import reports as reports
    from mai_tui.core.usage.orgs import OrgChanges, add_org

    context = load_context()
    rng = random.Random(1)  # noqa: S311 - reproducible data
    now = utcnow()
    with context.session() as session:
        admin = context.current_user(session)
        zones = ["UTC", "Europe/Warsaw", "America/New_York", "Asia/Tokyo"]
        orgs = [
            add_org(session, admin, f"org{n:03d}", OrgChanges(timezone=zones[n % 4], monthly_limit_usd="1000"))
            for n in range(args.orgs)
        ]
        users = []
        for n in range(args.orgs * 10):
            user = User(name=f"user{n:04d}", org_id=orgs[n % args.orgs].id)
            session.add(user)
            users.append(user)
        session.flush()
        org_ids = [(o.id or 0, o.timezone) for o in orgs]
        user_ids = [u.id or 0 for u in users]

    models = [
        "openrouter/openai/gpt-4o-mini",
        "openrouter/anthropic/claude-sonnet-4.5",
        "openai/gpt-4.1",
        "gemini/gemini-2.5-flash",
        "anthropic/claude-haiku-4-5",
    ]
    from zoneinfo import ZoneInfo

    started = time.perf_counter()
    table = LedgerEntry.__table__  # type: ignore[attr-defined]
    batch: list[dict[str, object]] = []
    engine = context.engine()
    with engine.begin() as connection:
        for n in range(args.rows):
            org_id, zone = org_ids[n % len(org_ids)]
            at = (now - timedelta(seconds=rng.randrange(0, 90 * 86400))).replace(tzinfo=UTC)
            raw = rng.randrange(1, 5_000_000)  # in 1e-10 USD
            batch.append(
                {
                    "created_at": at,
                    "day": at.astimezone(ZoneInfo(zone)).date(),
                    "org_id": org_id,
                    "user_id": user_ids[(n // len(org_ids)) % len(user_ids)],
                    "kind": "chat",
                    "provider": "openrouter",
                    "model": models[n % len(models)],
                    "generation_id": f"gen-{n}",
                    "prompt_tokens": rng.randrange(10, 4000),
                    "completion_tokens": rng.randrange(1, 1500),
                    "cached_tokens": 0,
                    "cache_write_tokens": 0,
                    "reasoning_tokens": 0,
                    "unsplit_tokens": 0,
                    "raw_cost_usd": Decimal(raw).scaleb(-10),
                    "markup_rate": Decimal("1.3"),
                    "billed_cost_usd": ledger.billed(Decimal(raw).scaleb(-10), Decimal("1.3")),
                    "currency": "USD",
                    "cost_source": "provider",
                    "estimated": False,
                    "pending": False,
                }
            )
            if len(batch) == 20_000:
                connection.execute(insert(table), batch)
                batch.clear()
        if batch:
            connection.execute(insert(table), batch)
        connection.execute(
            text(
                "INSERT INTO usage_daily (org_id, day, user_id, model, requests, prompt_tokens, completion_tokens, "
                "cached_tokens, cache_write_tokens, reasoning_tokens, unsplit_tokens, raw_cost_usd, billed_cost_usd, "
                "updated_at) SELECT org_id, day, COALESCE(user_id, 0), model, COUNT(*), SUM(prompt_tokens), "
                "SUM(completion_tokens), SUM(cached_tokens), SUM(cache_write_tokens), SUM(reasoning_tokens), "
                "SUM(unsplit_tokens), SUM(raw_cost_usd), SUM(billed_cost_usd), MAX(created_at) FROM usage_ledger "
                "GROUP BY org_id, day, COALESCE(user_id, 0), model"
            )
        )
    fill = time.perf_counter() - started
    # Close every connection: SQLite folds the 400 MB write-ahead log into the database, as a
    # long-running installation's checkpoints do; reads then do not search a huge WAL.
    from mai_tui.core.store.engine import dispose_engines

    dispose_engines()
    context = load_context()
    with context.session(write=False) as session:
        rollups = session.exec(select(DailyUsage.id)).all()
        check_started = time.perf_counter()
        consistent = ledger.rollup_mismatches(session) == {}
        check = time.perf_counter() - check_started
    size = (folder / "data" / "mai" / "mai.db").stat().st_size
    print(
        f"filled {args.rows:,} ledger rows / {len(rollups):,} rollup rows in {fill:.1f} s "
        f"({size / 1e6:.0f} MB); rollups == ledger: {consistent} (checked in {check:.1f} s)"
    )

    # 2. live reads: `mai usage live` reads today; the usage screen's header today and the month
    with context.session(write=False) as session:
        orgs_loaded = list(session.exec(select(Organization)).all())

    def timed(label: str, read: Callable[[Session, Organization], object], runs: int, fresh: bool) -> None:
        times = []
        with context.session(write=False) as shared:
            for _ in range(runs):
                org = rng.choice(orgs_loaded)
                t = time.perf_counter()
                if fresh:
                    with context.session(write=False) as session:
                        read(session, session.get(Organization, org.id) or org)
                else:
                    read(shared, org)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(
            f"{label}: p50 {statistics.median(times):.3f} ms, p99 {times[int(len(times) * 0.99)]:.3f} ms, "
            f"max {times[-1]:.3f} ms"
        )

    timed("usage live read (today; open session)", reports.today, 2000, fresh=False)
    timed("usage live read (today; a new session each)", reports.today, 500, fresh=True)
    timed("today + month to date (the usage screen's header)", reports.live, 1000, fresh=False)

    # 3. insert rate through record()
    count = 3000
    t = time.perf_counter()
    for n in range(count):
        org_id, _zone = org_ids[n % len(org_ids)]
        with context.session() as session:
            payer = session.get(Organization, org_id)
            assert payer is not None
            ledger.record(
                session,
                payer,
                LedgerEntry(
                    created_at=utcnow(),
                    day=now.date(),
                    org_id=org_id,
                    user_id=user_ids[n % len(user_ids)],
                    kind="chat",
                    provider="openrouter",
                    model=models[n % len(models)],
                    generation_id=f"new-{n}",
                    prompt_tokens=500,
                    completion_tokens=200,
                    raw_cost_usd=Decimal("0.000123"),
                    cost_source="provider",
                ),
            )
    rate = count / (time.perf_counter() - t)
    print(f"ledger insert with rollup update, one transaction per call: {rate:,.0f} rows/s ({1000 / rate:.2f} ms each)")

    # 4. 30-day report by model
    times = []
    for _ in range(5):
        t = time.perf_counter()
        with context.session(write=False) as session:
            rows = reports.report(session, now.date() - timedelta(days=29), now.date(), reports.GroupBy.MODEL)
        times.append(time.perf_counter() - t)
    print(f"30-day report by model over all orgs: median {statistics.median(times) * 1000:.0f} ms ({len(rows)} rows)")

    # 5. one sync cycle for every org against the fake OpenRouter
    from mai_tui.core.usage.orgs import set_org_key
    from mai_tui.core.usage.sync import run_once
    from tests.fakes.openrouter import FakeOpenRouter

    with FakeOpenRouter() as fake:
        os.environ["OPENROUTER_BASE_URL"] = fake.base_url
        management, _hash = fake.add_key("admin", management=True)
        os.environ["OPENROUTER_MANAGEMENT_KEY"] = management
        context = load_context()
        keys = []
        with context.session() as session:
            admin = session.exec(select(User).where(User.name == "bench")).one()
            for org in orgs_loaded:
                key, _h = fake.add_key(org.name)
                set_org_key(session, context.secrets, admin, org.name, key)
                keys.append(key)
        run_once(context, admin)  # first sight of every key
        run_once(context, admin)  # its baseline
        for key in keys:
            fake.spend(key, "openai/gpt-4o-mini", "0.01", prompt_tokens=100, completion_tokens=10)
        run_once(context, admin, days_back=1)  # reads the counters with that spend
        t = time.perf_counter()
        report = run_once(context, admin, days_back=1)
        first = time.perf_counter() - t
        t = time.perf_counter()
        again = run_once(context, admin, days_back=1)
        second = time.perf_counter() - t
    print(
        f"sync cycle, {len(keys)} orgs with own keys (GET /keys/{{hash}} each): {first:.2f} s "
        f"(booked ${report.outside_spend_usd} outside spend, errors {len(report.errors)}); "
        f"repeated: {second:.2f} s (booked ${again.outside_spend_usd})"
    )


if __name__ == "__main__":
    main()
