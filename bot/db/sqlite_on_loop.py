"""SQLite statements of the hot path run on the event loop's own thread.

aiosqlite runs every call (make a cursor, execute, fetch the rows, close the cursor, commit)
in a thread of its own and wakes the event loop with the result: four or five hand-overs a
statement. Each is cheap alone, but under a burst the loop is busy and every hand-over waits
for its next turn, so a transaction of a few microseconds of SQLite work held the database's
one write turn (bot/db/turns.py) for 10-60 ms, and the acknowledgement path's journal insert
queued behind it. Measured at 500 events/s: the write turn was held 98% of the time.

Inside `on_the_loop()` (the journal, the inbox and the outbox: short statements on indexed
rows) a statement runs where it is called instead. In WAL mode with `synchronous=NORMAL` a
commit writes to the WAL without waiting for the disk, so these calls take microseconds;
everything else (admin reports, retention, migrations) still goes through the thread.

The one way such a call could block the loop is another *process* holding SQLite's write
lock (a second replica on the same file, an admin command). So connections have no busy
timeout of their own: a call on the loop that meets a lock fails at once with SQLITE_BUSY, is
handed to the thread, and waits there (`_patiently`), retrying with growing sleeps up to the
timeout, as SQLite's own busy handler would. A statement refused with SQLITE_BUSY did nothing,
so running it again is safe.

The other slow part of a commit is an automatic WAL checkpoint (copying the WAL back, with an
fsync): measured under a burst, 5-7 ms about every 0.6 s on the loop, so it is left where it
is rather than given a thread of its own.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial, wraps
from typing import Any, Final, ParamSpec, TypeVar

import aiosqlite

#: SQLite's result codes for "another connection holds the lock" (primary code, low byte).
_BUSY_CODES: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
#: Sleeps between attempts while another process holds the lock, as SQLite's busy handler.
_BACKOFF_SECONDS: Final = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05)

_ON_THE_LOOP: ContextVar[bool] = ContextVar("evidence_desk_sqlite_on_the_loop", default=False)


@contextmanager
def on_the_loop() -> Iterator[None]:
    """Run this task's SQLite statements on the event loop's thread (see the module)."""
    token = _ON_THE_LOOP.set(True)
    try:
        yield
    finally:
        _ON_THE_LOOP.reset(token)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _BUSY_CODES


def _patiently(function: Callable[[], Any], timeout: float) -> Any:
    """Call `function`, retrying while another connection holds the lock, for up to
    `timeout` seconds (runs in aiosqlite's thread, never on the loop)."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        try:
            return function()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() >= deadline:
                raise
        pause = _BACKOFF_SECONDS[min(attempt, len(_BACKOFF_SECONDS) - 1)]
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        attempt += 1


class LoopConnection(aiosqlite.Connection):
    """aiosqlite's connection, running calls in place inside `on_the_loop()`."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._busy_timeout = busy_timeout

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        call = partial(fn, *args, **kwargs)
        if _ON_THE_LOOP.get() and self._running and self._connection is not None:
            try:
                return call()
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
            # Another process holds the write lock: wait for it off the loop.
        # aiosqlite's own method is untyped.
        return await super()._execute(_patiently, call, self._busy_timeout)  # type: ignore[no-untyped-call]


def _connector(database: str, kwargs: dict[str, Any]) -> sqlite3.Connection:
    connection: sqlite3.Connection = sqlite3.connect(database, **kwargs)
    # Waiting for a lock is `_patiently`'s job, in the thread; on the loop a lock fails fast.
    connection.execute("PRAGMA busy_timeout=0")
    return connection


def connect(database: str, *, timeout: float = 30.0, **kwargs: Any) -> LoopConnection:
    """What SQLAlchemy's aiosqlite dialect calls instead of `aiosqlite.connect` (through the
    `async_creator_fn` connect argument), with the arguments it worked out from the URL.
    `timeout` is how long a statement waits for another process's lock."""
    kwargs["check_same_thread"] = False  # the loop's thread and aiosqlite's share it
    connection = LoopConnection(partial(_connector, str(database), kwargs), timeout)
    connection._thread.daemon = True
    return connection


P = ParamSpec("P")
R = TypeVar("R")


def statements_on_the_loop(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate a coroutine whose SQLite statements run `on_the_loop()` (and those of the
    tasks it starts)."""

    @wraps(method)
    async def on_loop(*args: P.args, **kwargs: P.kwargs) -> R:
        with on_the_loop():
            return await method(*args, **kwargs)

    return on_loop
