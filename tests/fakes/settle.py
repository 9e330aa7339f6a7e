"""`settle(app)`: `drain` (tests/fakes/drain.py) for a whole app, nudging its outbox worker.

Scenario apps poll their outbox hourly (so tests control delivery); the commit that queues a
message wakes the worker, but a retry after a failed attempt waits for the next wake-up, which
this gives it while it waits.
"""

from __future__ import annotations

from aiohttp import web

from bot.keys import DATABASE, WORKER
from tests.fakes.drain import DRAIN_TIMEOUT, pending, until


async def settle(app: web.Application, *, within: float = DRAIN_TIMEOUT) -> None:
    """Until every journalled event is finished and no outbox message is pending."""

    async def settled() -> bool:
        app[WORKER].kick()
        return await pending(app[DATABASE]) == 0

    await until(settled, within)
