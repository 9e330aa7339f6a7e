"""Ticket throughput, the specialist's list at scale, and the claim race, on SQLite and PostgreSQL.

    python benchmarks/tickets.py [--postgres URL] [--rows 100000] [--races 1000]

PostgreSQL is used when --postgres or EVIDENCE_DESK_TEST_POSTGRES_URL names a server: a
throw-away database is created and dropped. Each figure has a baseline from the same run:
creation is compared with a bare INSERT of the same rows (no redaction, reference or audit),
and the list query with a bare `SELECT 1` round trip.
Targets: `tickets list` p99 < 50 ms with 100,000 tickets on PostgreSQL; exactly one winner in
every claim race.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bot.config.database_url import normalize_database_url
from bot.db.migrate import upgrade
from bot.db.models import Ticket
from bot.db.session import Database
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Origin, Person, Purpose, TicketDraft


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def draft(n: int) -> TicketDraft:
    return TicketDraft(
        requester=Person("slack", f"U{n:06d}", f"Requester {n}"),
        origin=Origin("slack", "C_WARD", f"17000000{n:02d}.0001"),
        question=f"Evidence on falls prevention in older inpatients, variant {n}",
        purpose=Purpose.SERVICE_DEVELOPMENT,
    )


def row(n: int, assignee: int | None) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "reference": f"BULK-2026-{n:06d}", "requester_platform": "slack", "requester_user_id": f"U{n}",
        "requester_name": None, "origin_platform": "slack", "origin_channel_id": "C_WARD", "origin_thread_id": None,
        "question": f"question {n}", "purpose": "research", "deadline": None,
        "due_date": date(2026, 12, 1) + timedelta(days=n % 60), "priority": 2,
        "status": "claimed" if assignee else "new", "assignee_id": assignee, "route_id": None,
        "created_at": now, "claimed_at": now if assignee else None, "completed_at": None, "closed_at": None,
        "source_event_id": None, "privacy_redacted": False, "text_purged_at": None,
    }  # fmt: skip


async def creation(db: Database, requesters: int, per_requester: int) -> tuple[float, float]:
    service = TicketService(db, PrivacyScanner())
    started = time.perf_counter()

    async def requester(i: int) -> None:
        for j in range(per_requester):
            await service.create(draft(i * per_requester + j))

    await asyncio.gather(*(requester(i) for i in range(requesters)))
    ours = requesters * per_requester / (time.perf_counter() - started)
    started = time.perf_counter()

    async def bare(i: int) -> None:
        for j in range(per_requester):
            async with db.transaction() as session:
                await session.execute(
                    insert(Ticket).values(**row(10_000_000 + i * per_requester + j, None))
                )

    await asyncio.gather(*(bare(i) for i in range(requesters)))
    baseline = requesters * per_requester / (time.perf_counter() - started)
    return ours, baseline


async def listing(db: Database, rows: int, runs: int) -> tuple[float, float, float]:
    routing = RoutingService(db)
    specialist = await routing.add_specialist(
        NewSpecialist("Bench", identities=(Identity("slack", "UBENCH"),))
    )
    batch = 5000
    for start in range(0, rows, batch):
        async with db.transaction() as session:
            await session.execute(
                insert(Ticket),
                [
                    row(n, specialist.id if n % 100 == 0 else None)
                    for n in range(start, min(rows, start + batch))
                ],
            )
    async with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            await connection.execute(text("ANALYZE tickets"))
    service = TicketService(db, PrivacyScanner())
    times, round_trips = [], []
    for _ in range(runs):
        t = time.perf_counter()
        await service.list(assignee=specialist.id, limit=50)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
        round_trips.append(time.perf_counter() - t)
    return pct(times, 50) * 1000, pct(times, 99) * 1000, pct(round_trips, 99) * 1000


async def races(db: Database, runs: int, claimers: int) -> tuple[int, int]:
    routing = RoutingService(db)
    specialists = [
        (
            await routing.add_specialist(
                NewSpecialist(f"Claimer {i}", identities=(Identity("slack", f"UC{i}"),))
            )
        ).id
        for i in range(claimers)
    ]
    service = TicketService(db, PrivacyScanner())
    exactly_one = 0
    for n in range(runs):
        ticket = await service.create(draft(900_000 + n))
        results = await asyncio.gather(
            *(service.claim(ticket.reference, s) for s in specialists), return_exceptions=True
        )
        winners = sum(not isinstance(r, BaseException) for r in results)
        exactly_one += winners == 1
    return exactly_one, runs


async def run_on(label: str, url: str, args: argparse.Namespace) -> list[str]:
    await upgrade(url)
    db = Database.from_url(url)
    try:
        made, bare = await creation(db, 50, args.per_requester)
        p50, p99, trip = await listing(db, args.rows, args.list_runs)
        won, total = await races(db, args.races, 20)
    finally:
        await db.dispose()
    return [
        f"{label:<11} {'tickets created/s (50 requesters)':<40} {made:>10.0f}   bare INSERT {bare:>8.0f}/s   ratio {made / bare:>5.2f}",
        f"{label:<11} {'tickets list p50 / p99 ms (' + str(args.rows) + ' rows)':<40} {p50:>5.1f} / {p99:<5.1f} SELECT 1 p99 {trip:>6.2f} ms   ratio {p99 / trip:>5.1f}",
        f"{label:<11} {'claim races with exactly one winner':<40} {won:>6}/{total:<6}",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=os.environ.get("EVIDENCE_DESK_TEST_POSTGRES_URL"))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--races", type=int, default=1000)
    parser.add_argument("--per-requester", type=int, default=10)
    parser.add_argument("--list-runs", type=int, default=300)
    args = parser.parse_args()
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        lines += await run_on("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
    if args.postgres:
        server = normalize_database_url(args.postgres)
        name = f"evidence_desk_bench_{secrets.token_hex(4)}"
        dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            lines += await run_on(
                "postgresql",
                make_url(server).set(database=name).render_as_string(hide_password=False),
                args,
            )
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    else:
        lines.append(
            "postgresql  skipped: give --postgres URL or set EVIDENCE_DESK_TEST_POSTGRES_URL"
        )
    print("\n".join(lines))
    print(
        "targets: tickets list p99 < 50 ms with 100,000 tickets on PostgreSQL; every race exactly one winner"
    )


if __name__ == "__main__":
    asyncio.run(main())
