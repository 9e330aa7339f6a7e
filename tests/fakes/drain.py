"""Wait until the bot has nothing left to do, so a test can count everything it sent.

Waiting for "the first N posts" cannot see a post that arrives later: a bug that sends one too
many still passes. So the scenario tests first drain the bot (every journalled inbound event
finished, every outbox message sent or given up), then count every post the fake received.
The answer to an event is queued in the transaction that finishes it, so once both tables are
drained no answer is still on its way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text

from bot.db.session import Database

#: How long the bot may take to drain before the test fails (a bound, not a wait).
DRAIN_TIMEOUT = 10.0
_POLL = 0.02
T = TypeVar("T")

_PENDING = text(
    "SELECT (SELECT count(*) FROM inbound_events WHERE done_at IS NULL)"
    " + (SELECT count(*) FROM outbox WHERE status = 'pending')"
)


async def pending(database: Database) -> int:
    """Inbound events not yet finished plus outbox messages not yet sent or failed."""
    async with database.engine.connect() as connection:
        return int((await connection.execute(_PENDING)).scalar_one())


async def until(condition: Callable[[], Awaitable[T | None]], within: float = DRAIN_TIMEOUT) -> T:
    """Poll `condition` until it returns something (not None, not False), and return that;
    fail the test if that takes longer than `within` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                found = await condition()
                if found is not None and found is not False:
                    return found
                await asyncio.sleep(_POLL)
    except TimeoutError:
        raise AssertionError(f"still waiting after {within:g} s for {condition}") from None


async def drain(database: Database, within: float = DRAIN_TIMEOUT) -> None:
    """Return once nothing is pending; fail the test if that takes longer than `within` seconds."""

    async def drained() -> bool:
        return await pending(database) == 0

    try:
        await until(drained, within)
    except AssertionError:
        left = await pending(database)
        raise AssertionError(f"the bot did not drain in {within:g} s: {left} pending") from None
