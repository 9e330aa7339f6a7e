"""Waiting for the database at start: a few tries with a clear line each, then one clear error.

A server started before its database (a container starting beside PostgreSQL, a database
being restarted) should wait a little and say so, not print a traceback a second; and when
the database stays away, the person running it gets one sentence naming what to check.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.engine import make_url

from bot.db.errors import is_database_unavailable
from bot.db.session import Database

log = logging.getLogger(__name__)
#: Seconds between tries: quick at first, then at most this long.
MAX_PAUSE_SECONDS = 5.0


class DatabaseUnreachable(Exception):
    """The database did not answer within the start-up wait; the message says where it is
    (never the password) and which setting to check."""


def where(url: str) -> str:
    """The database's address without its password: host:port/name, or the SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


async def wait_for_database(db: Database, url: str, wait_seconds: float) -> None:
    """Return once the database answers; try for about `wait_seconds` (one line a try), then
    raise `DatabaseUnreachable`. Errors other than "cannot reach it" are raised at once.
    0 seconds means do not check: start anyway, and /readyz says whether it answers."""
    if wait_seconds <= 0:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    pause = 0.5
    tries = 0
    while True:
        tries += 1
        try:
            await db.ping(within=max(1.0, min(10.0, wait_seconds)))
            return
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            reason = type(exc).__name__
        left = deadline - loop.time()
        if left <= 0:
            raise DatabaseUnreachable(
                f"The database at {where(url)} cannot be reached ({reason}) after {tries} "
                f"{'try' if tries == 1 else 'tries'}. Check that it is running and that "
                "EVIDENCE_DESK_DATABASE_URL (or DATABASE_URL) points at it."
            )
        pause = min(pause * 2, MAX_PAUSE_SECONDS, left)
        log.warning(
            "the database at %s cannot be reached (%s); trying again in %.0f s",
            where(url),
            reason,
            pause,
        )
        await asyncio.sleep(pause)
