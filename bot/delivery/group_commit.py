"""Journal inserts grouped into one transaction each: the acknowledgement path's only write.

Every platform event is written to the journal before it is acknowledged (bot/delivery/journal.py).
One transaction per event makes the acknowledgement wait behind every other transaction in
the queue, and under a burst that queue, not the work, sets the latency. Here the events that
arrive while one insert is in flight are written together by the next one: a lone event still
goes at once, and a burst of 200 costs a handful of transactions instead of 200.

A duplicate event id (Slack's retry, or a second replica receiving the same event) is skipped
by the database's unique key, in the batch as one at a time.

`GroupedWrites` is the grouping alone, for other writes on the acknowledgement path (Teams'
conversation references, bot/delivery/conversation_refs.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from sqlalchemy.dialects import postgresql, sqlite

from bot.db.models import InboundEvent
from bot.db.session import Database
from bot.db.sqlite_on_loop import statements_on_the_loop

log = logging.getLogger(__name__)

MAX_BATCH: Final = 200

R = TypeVar("R")


@dataclass
class _Pending(Generic[R]):
    values: dict[str, Any]
    done: asyncio.Future[R] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupedWrites(ABC, Generic[R]):
    """Rows that arrive while a write is in flight are written together by the next one (at
    most MAX_BATCH a transaction); each caller waits for its own row's result, or the error
    that failed its batch."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: list[_Pending[R]] = []
        self._writer: asyncio.Task[None] | None = None

    async def _submit(self, values: dict[str, Any]) -> R:
        pending: _Pending[R] = _Pending(values)
        self._queue.append(pending)
        if self._writer is None or self._writer.done():
            # A fresh context: the writer commits its rows at once, never as part of the
            # unit of work of whichever task happened to start it.
            self._writer = asyncio.create_task(self._write_all(), context=contextvars.Context())
        return await pending.done

    @statements_on_the_loop  # an acknowledgement waits on it (bot/db/sqlite_on_loop.py)
    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                result_of = await self._write([pending.values for pending in batch])
            except BaseException as exc:
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_result(result_of(pending.values))

    @abstractmethod
    async def _write(self, batch: list[dict[str, Any]]) -> Callable[[dict[str, Any]], R]:
        """Write the batch's rows in one transaction; returns what each row's caller gets,
        asked in the batch's order for the callers still waiting."""


class GroupCommit(GroupedWrites[int | None]):
    """Inserts journal rows, batching those that arrive while a write is in flight."""

    async def insert(self, values: dict[str, Any]) -> int | None:
        """The new row's id, or None if an event with this platform and id was journalled
        before. Raises what the database raised, so the caller can refuse the event (503)."""
        return await self._submit(values)

    async def _write(self, batch: list[dict[str, Any]]) -> Callable[[dict[str, Any]], int | None]:
        unique: dict[tuple[str, str], dict[str, Any]] = {}
        for values in batch:
            unique.setdefault((values["platform"], values["event_id"]), values)
        # One statement for any batch size, executed with a list of rows: SQLAlchemy sends it
        # as a single multi-row INSERT and compiles it once per process, where a `.values()`
        # of N rows would be compiled anew for every N (most of the cost of a small batch).
        statement = _INSERTS[self._db.dialect]
        async with self._db.transaction(urgent=True) as session:
            rows = (await session.execute(statement, list(unique.values()))).all()
        ids = {(platform, event_id): row_id for row_id, platform, event_id in rows}
        # The first of two same-id events in one batch gets the row; the second is a duplicate
        # like any later one.
        return lambda values: ids.pop((values["platform"], values["event_id"]), None)


def _insert_skipping_duplicates(dialect: Any) -> Any:
    table = InboundEvent.__table__
    return (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(table.c.id, table.c.platform, table.c.event_id)
    )


_INSERTS: Final = {
    "postgresql": _insert_skipping_duplicates(postgresql),
    "sqlite": _insert_skipping_duplicates(sqlite),
}
