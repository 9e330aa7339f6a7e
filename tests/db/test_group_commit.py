"""Journal inserts that arrive together are written together, and duplicates stay duplicates."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from bot.db.models import InboundEvent
from bot.db.session import Database
from bot.delivery.group_commit import GroupCommit
from tests.db.conftest import START


def row(event_id: str) -> dict[str, Any]:
    return {
        "platform": "slack", "event_id": event_id, "payload": "{}", "received_at": START,
        "attempts": 1, "claimed_until": START,
    }  # fmt: skip


async def stored(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundEvent)) or 0)


async def test_a_burst_of_events_each_gets_its_own_row(database: Database) -> None:
    writer = GroupCommit(database)
    ids = await asyncio.gather(*(writer.insert(row(f"E{n}")) for n in range(300)))
    assert None not in ids
    assert len(set(ids)) == 300
    assert await stored(database) == 300


async def test_a_repeated_event_id_in_the_same_burst_is_a_duplicate(database: Database) -> None:
    writer = GroupCommit(database)
    first, second = await asyncio.gather(writer.insert(row("E1")), writer.insert(row("E1")))
    assert first is not None
    assert second is None
    assert await stored(database) == 1


async def test_an_event_id_journalled_earlier_is_a_duplicate(database: Database) -> None:
    writer = GroupCommit(database)
    assert await writer.insert(row("E1")) is not None
    assert await writer.insert(row("E1")) is None


async def test_a_failed_write_fails_every_waiting_event_and_the_next_write_works(
    database: Database,
) -> None:
    writer = GroupCommit(database)
    broken = {**row("E-bad"), "payload": None}  # NOT NULL: the whole batch is refused
    results = await asyncio.gather(
        writer.insert(broken), writer.insert(row("E2")), return_exceptions=True
    )
    assert all(isinstance(result, Exception) for result in results)
    assert await stored(database) == 0
    assert await writer.insert(row("E3")) is not None
