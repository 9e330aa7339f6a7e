"""Waiting until the app has nothing left to do, so a test counts every message it sent.

A test that returns at "the first N posts" cannot see a post that arrives later (a duplicate
answer, a second notification). `settle` waits until every event the app journalled is
finished and every outbox message is sent or has failed for good, and only then does the
test count; a bound turns a hang into a failure.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import func, select

from bot.app import DATABASE, WORKER
from bot.db.models import InboundEvent, OutboxMessage


async def pending(app: web.Application) -> tuple[int, int]:
    """(unfinished inbound events, outbox messages not yet sent or given up)."""
    async with app[DATABASE].read() as session:
        events = await session.scalar(
            select(func.count()).select_from(InboundEvent).where(InboundEvent.done_at.is_(None))
        )
        messages = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
    return int(events or 0), int(messages or 0)


async def settle(app: web.Application, *, within: float = 15.0) -> None:
    """Until the journal and the outbox are drained; fails the test after `within` seconds."""
    from bot.teams import TEAMS  # the Teams adapter answers messages after its turn

    async with asyncio.timeout(within):
        while True:
            if TEAMS in app:
                await app[TEAMS].bot.drain()
            if await pending(app) == (0, 0):
                return
            app[WORKER].kick()
            await asyncio.sleep(0.01)
