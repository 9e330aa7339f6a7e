"""On SQLite a write transaction takes this process's write turn (bot/db/turns.py) at its first
statement, not when it opens, and gives it back when it ends, however it ends
(bot/db/session.py, `Database.transaction`). SQLite only: PostgreSQL has no write turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from bot.db.session import Database
from bot.db.sqlite_on_loop import on_the_loop
from bot.db.turns import WriteTurns

INSERT = text("INSERT INTO scratch (n, note) VALUES (:n, :note)")


@asynccontextmanager
async def opened(path: Path) -> AsyncIterator[Database]:
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        yield db
    finally:
        await db.dispose()


def turns_of(db: Database) -> WriteTurns:
    """The queue this process's SQLite writers wait in (read, never driven, by the tests)."""
    turns = db._sqlite_turns
    assert turns is not None
    return turns


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Poll `condition` (a queue's length has no event to wait on) for up to `within` s."""
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.005)


async def notes(db: Database) -> list[str]:
    async with db.read() as session:
        return list((await session.scalars(text("SELECT note FROM scratch ORDER BY n"))).all())


def loop_or_thread(on_loop: bool) -> AbstractContextManager[None]:
    """Statements on the loop's thread (bot/db/sqlite_on_loop.py), or through aiosqlite's."""
    return on_the_loop() if on_loop else nullcontext()


async def test_a_transaction_that_has_not_written_yet_does_not_keep_urgent_work_waiting(
    sqlite_scratch: Path,
) -> None:
    async with opened(sqlite_scratch) as db:
        committed: list[str] = []

        async def journal() -> None:
            async with db.transaction(urgent=True) as session:
                await session.execute(INSERT, {"n": 1, "note": "journalled"})
            committed.append("journal")

        async with db.transaction() as answering:
            # Still thinking (matching, rendering): it holds no turn, so the journal insert
            # an acknowledgement waits on commits now, not after this transaction.
            await asyncio.wait_for(asyncio.create_task(journal()), 2)
            await answering.execute(INSERT, {"n": 2, "note": "answered"})
        committed.append("answer")

        assert committed == ["journal", "answer"]
        assert await notes(db) == ["journalled", "answered"]


@pytest.mark.parametrize("on_loop", [True, False], ids=["on-the-loop", "in-the-thread"])
async def test_once_a_transaction_has_written_the_next_writer_waits_for_its_commit(
    sqlite_scratch: Path, on_loop: bool
) -> None:
    async with opened(sqlite_scratch) as db:
        turns = turns_of(db)
        committed: list[str] = []
        first_wrote, let_first_commit = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            with loop_or_thread(on_loop):
                async with db.transaction() as session:
                    await session.execute(INSERT, {"n": 1, "note": "first"})
                    first_wrote.set()
                    await let_first_commit.wait()
            committed.append("first")

        async def second() -> None:
            await first_wrote.wait()
            with loop_or_thread(on_loop):
                async with db.transaction() as session:
                    await session.execute(INSERT, {"n": 2, "note": "second"})
            committed.append("second")

        async with asyncio.timeout(10):
            tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
            # The second waits in this process's queue, not on SQLite's lock.
            await until(lambda: turns.waiting == 1)
            await asyncio.sleep(0.05)
            assert committed == []
            let_first_commit.set()
            await asyncio.gather(*tasks)

        assert committed == ["first", "second"]
        assert turns.waiting == 0
        assert await notes(db) == ["first", "second"]


async def test_a_transaction_that_executes_nothing_never_takes_a_turn(
    sqlite_scratch: Path,
) -> None:
    async with opened(sqlite_scratch) as db:
        turns = turns_of(db)
        release = asyncio.Event()
        holding = asyncio.Event()

        async def hold() -> None:
            async with turns.turn():
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()
        # Opened and closed while another holds the turn: had it asked for the turn, it
        # would wait for the holder.
        async with asyncio.timeout(2), db.transaction():
            assert turns.waiting == 0
        assert turns.waiting == 0

        # Nor did it give back the holder's turn on its way out: a writer still waits.
        async def write() -> None:
            async with db.transaction() as session:
                await session.execute(INSERT, {"n": 1, "note": "after the holder"})

        writer = asyncio.create_task(write())
        await until(lambda: turns.waiting == 1)
        release.set()
        async with asyncio.timeout(5):
            await asyncio.gather(holder, writer)
        assert await notes(db) == ["after the holder"]


class Refused(Exception):
    pass


async def raise_after_writing(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(INSERT, {"n": 1, "note": "rolled back"})
        raise Refused


async def fail_at_a_statement(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(INSERT, {"n": 1, "note": "rolled back"})
        await session.execute(INSERT, {"n": 1, "note": "a duplicate key"})


@pytest.mark.parametrize(
    ("fail", "error"),
    [(raise_after_writing, Refused), (fail_at_a_statement, exc.IntegrityError)],
    ids=["raised-inside", "failed-statement"],
)
async def test_a_transaction_that_fails_gives_its_turn_back(
    sqlite_scratch: Path,
    fail: Callable[[Database], Awaitable[None]],
    error: type[Exception],
) -> None:
    async with opened(sqlite_scratch) as db:
        with pytest.raises(error):
            await fail(db)
        async with asyncio.timeout(2), db.transaction() as session:
            await session.execute(INSERT, {"n": 1, "note": "the next one"})
        assert turns_of(db).waiting == 0
        assert await notes(db) == ["the next one"]


async def test_a_task_started_inside_a_transaction_does_not_take_its_turn_after_it_ended(
    sqlite_scratch: Path,
) -> None:
    # The task inherits the transaction's context variables; a statement of its own outside
    # any `transaction()` (here the health check's ping) once took the ended transaction's
    # turn, and nobody gave it back: every later writer waited for ever.
    async with opened(sqlite_scratch) as db:
        transaction_ended = asyncio.Event()

        async def ping_later() -> None:
            await transaction_ended.wait()
            await db.ping()

        async with db.transaction() as session:
            await session.execute(INSERT, {"n": 1, "note": "first"})
            pinging = asyncio.create_task(ping_later())
        transaction_ended.set()
        await asyncio.wait_for(pinging, 2)

        async with asyncio.timeout(2), db.transaction() as session:
            await session.execute(INSERT, {"n": 2, "note": "after the ping"})
        assert await notes(db) == ["first", "after the ping"]
