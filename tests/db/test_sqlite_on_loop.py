"""SQLite statements on the event loop's own thread (bot/db/sqlite_on_loop.py): in place and
without a turn of the loop inside `on_the_loop()`, and, when another connection holds the
write lock, a wait in aiosqlite's thread that never blocks the loop and gives up at the busy
timeout. SQLite only: these are how SQLite is driven; PostgreSQL has nothing like them."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import (
    AbstractContextManager,
    asynccontextmanager,
    closing,
    contextmanager,
    nullcontext,
)
from pathlib import Path

import pytest
from sqlalchemy import exc, text

import bot.db.session as session_module
from bot.db.session import Database
from bot.db.sqlite_on_loop import LoopConnection, on_the_loop

INSERT = text("INSERT INTO scratch (n, note) VALUES (:n, :note)")


@asynccontextmanager
async def opened(path: Path) -> AsyncIterator[Database]:
    """The bot's Database on `path`, its one pooled connection already made (connecting
    always goes through aiosqlite's thread), disposed afterwards."""
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
        yield db
    finally:
        await db.dispose()


def loop_or_thread(on_loop: bool) -> AbstractContextManager[None]:
    """Statements on the loop's thread (`on_the_loop`), or through aiosqlite's thread."""
    return on_the_loop() if on_loop else nullcontext()


class LoopTurns:
    """Counts the event loop's turns: a callback that schedules itself again on every turn."""

    def __init__(self) -> None:
        self.count = 0
        self._handle: asyncio.Handle | None = None

    def _tick(self) -> None:
        self.count += 1
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    @contextmanager
    def counting(self) -> Iterator[LoopTurns]:
        self._handle = asyncio.get_running_loop().call_soon(self._tick)
        try:
            yield self
        finally:
            assert self._handle is not None
            self._handle.cancel()


class Heartbeat:
    """A task that beats every few milliseconds while the loop is free to run it, and the
    longest the loop kept it waiting between two beats."""

    def __init__(self) -> None:
        self.beats = 0
        self.longest_pause = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            self.beats += 1
            self.longest_pause = max(self.longest_pause, now - last)
            last = now

    def __enter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


@contextmanager
def write_lock_held_by_another_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection (as a second process would have) holding the write lock
    until the test commits it (or the block ends)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield other
        finally:
            if other.in_transaction:
                other.execute("ROLLBACK")


async def test_a_write_transaction_on_the_loop_takes_no_turn_of_the_loop(
    sqlite_scratch: Path,
) -> None:
    async with opened(sqlite_scratch) as db:
        with LoopTurns().counting() as turns, on_the_loop():
            before = turns.count
            async with db.transaction() as session:  # BEGIN IMMEDIATE, INSERT, COMMIT, close
                await session.execute(INSERT, {"n": 1, "note": "on the loop"})
            during = turns.count - before
        assert during == 0


async def test_a_statement_on_the_loop_runs_where_it_is_called(sqlite_scratch: Path) -> None:
    async with opened(sqlite_scratch) as db:
        with LoopTurns().counting() as turns, on_the_loop():
            async with db.transaction() as session:
                before = turns.count
                await session.execute(text("SELECT 1"))
                during = turns.count - before
        assert during == 0


async def test_outside_on_the_loop_a_statement_waits_for_aiosqlites_thread(
    sqlite_scratch: Path,
) -> None:
    async with opened(sqlite_scratch) as db:
        with LoopTurns().counting() as turns:
            async with db.transaction() as session:
                before = turns.count
                await session.execute(text("SELECT 1"))
                during = turns.count - before
        assert during > 0


@pytest.mark.parametrize("on_loop", [True, False], ids=["on-the-loop", "in-the-thread"])
async def test_a_write_meeting_another_connections_lock_waits_for_it_without_blocking_the_loop(
    sqlite_scratch: Path, on_loop: bool
) -> None:
    # The connections have no busy timeout of their own (PRAGMA busy_timeout=0): without the
    # wait in aiosqlite's thread this write would fail at once with "database is locked".
    loop = asyncio.get_running_loop()
    released_at: list[float] = []
    async with opened(sqlite_scratch) as db:
        with write_lock_held_by_another_connection(sqlite_scratch) as other, Heartbeat() as beat:

            def release() -> None:
                other.execute("COMMIT")
                released_at.append(loop.time())

            releasing = loop.call_later(0.3, release)
            try:
                async with asyncio.timeout(10):
                    with loop_or_thread(on_loop):
                        async with db.transaction() as session:
                            await session.execute(INSERT, {"n": 1, "note": "after the lock"})
            finally:
                releasing.cancel()
            committed_at = loop.time()
            beats_while_waiting, longest_pause = beat.beats, beat.longest_pause
            rows = other.execute("SELECT note FROM scratch").fetchall()
    assert released_at and committed_at >= released_at[0]
    # The loop ran other tasks all the while (a blocking wait would be seconds long).
    assert beats_while_waiting >= 5
    assert longest_pause < 1.0
    assert rows == [("after the lock",)]


@pytest.mark.parametrize("on_loop", [True, False], ids=["on-the-loop", "in-the-thread"])
async def test_a_lock_held_past_the_busy_timeout_fails_as_database_is_locked(
    sqlite_scratch: Path, on_loop: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.3)
    async with opened(sqlite_scratch) as db:
        with write_lock_held_by_another_connection(sqlite_scratch) as other, Heartbeat() as beat:
            started = time.monotonic()
            with pytest.raises(exc.OperationalError, match="database is locked"):
                async with asyncio.timeout(10):
                    with loop_or_thread(on_loop):
                        async with db.transaction() as session:
                            await session.execute(INSERT, {"n": 1, "note": "too late"})
            waited = time.monotonic() - started
            assert beat.beats >= 5  # waiting, the loop ran other tasks
            assert beat.longest_pause < 1.0
            other.execute("COMMIT")
        # The failed transaction gave its write turn back: the next one is not kept waiting.
        async with asyncio.timeout(2), db.transaction() as session:
            await session.execute(INSERT, {"n": 2, "note": "once free"})
    assert 0.25 <= waited < 5


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("INSERT INTO scratch (n, note) VALUES (1, 'again')", exc.IntegrityError),
        ("INSERT INTO scratch (n, note) VALUE (2, 'misspelt')", exc.OperationalError),
    ],
    ids=["duplicate-key", "syntax-error"],
)
async def test_a_failing_statement_on_the_loop_is_raised_in_place(
    sqlite_scratch: Path, statement: str, error: type[Exception]
) -> None:
    async with opened(sqlite_scratch) as db:
        async with db.transaction() as session:
            await session.execute(INSERT, {"n": 1, "note": "first"})
        with LoopTurns().counting() as turns, on_the_loop(), pytest.raises(error):
            async with db.transaction() as session:
                await session.execute(text("SELECT 1"))
                before = turns.count
                try:
                    await session.execute(text(statement))
                finally:
                    during = turns.count - before
    # Raised where it was called: never handed to aiosqlite's thread to be tried again.
    assert during == 0


@pytest.mark.parametrize("on_loop", [True, False], ids=["on-the-loop", "in-the-thread"])
async def test_a_call_failing_for_another_reason_than_a_lock_is_tried_once(
    sqlite_scratch: Path, on_loop: bool
) -> None:
    calls: list[int] = []

    def fails() -> int:
        calls.append(1)
        raise ValueError("not a lock")

    async with opened(sqlite_scratch) as db:
        with loop_or_thread(on_loop):
            with pytest.raises(exc.OperationalError, match="user-defined function raised"):
                async with db.transaction() as session:
                    raw = await (await session.connection()).get_raw_connection()
                    driver = raw.driver_connection
                    assert isinstance(driver, LoopConnection)
                    await driver.create_function("fails", 0, fails)
                    await session.execute(text("SELECT fails()"))
    assert len(calls) == 1
