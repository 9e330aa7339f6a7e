"""Engines and sessions: the one place that knows how each database must be driven.

SQLite needs three things PostgreSQL does not, all set per connection:

* `foreign_keys=ON`, or the cascades and `SET NULL`s in the schema are silently ignored;
* WAL journalling, so readers are not blocked by the bot's writes;
* `BEGIN IMMEDIATE` for every transaction. Python's sqlite3 opens transactions lazily, at the
  first write, and a transaction that read first and then tries to write after another
  connection committed fails at once with "database is locked" instead of waiting. Taking the
  write lock at BEGIN makes concurrent writers queue (up to the busy timeout) instead, which is
  what the ticket service's read-check-update transactions need.

An in-memory SQLite URL shares one connection between all sessions (SQLAlchemy's StaticPool),
so it suits single-task scripts only; tests and deployments use a file.

When PostgreSQL goes away and comes back, the same engine recovers by itself: every pooled
connection is checked before use (`pool_pre_ping`), so a dead one is replaced rather than
handed out, and a connection that dies mid-query is invalidated by SQLAlchemy. Connecting gives
up after `connect_timeout` seconds (libpq's URL parameter, `?connect_timeout=3`; 5 by default,
not asyncpg's 60), so a request meeting an unreachable server fails in seconds with an error
`bot.db.errors.is_database_unavailable` recognises, and is refused with 503.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.util import await_only as await_

from bot.config.database_url import normalize_database_url
from bot.db import sqlite_on_loop
from bot.db.errors import DatabaseUnavailable
from bot.db.turns import LazyTurn, WriteTurns

__all__ = ["Database", "create_engine_from_url"]

# How long a SQLite connection waits for another's write lock before giving up.
SQLITE_BUSY_TIMEOUT_SECONDS: Final = 30.0
# How long connecting to PostgreSQL may take, unless the URL says (`?connect_timeout=N`).
CONNECT_TIMEOUT_SECONDS: Final = 5.0
# How long `Database.ping` waits for an answer, connecting included.
PING_TIMEOUT_SECONDS: Final = 10.0


class _WithoutStatementArguments(logging.Filter):
    """aiosqlite logs every call it runs at DEBUG, statement and parameters included, and the
    parameters are what people wrote. Keep the line ("executing ..."), drop its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple("(a database call)" for _ in record.args)
        return True


_AIOSQLITE_FILTER: Final = _WithoutStatementArguments()


def _quiet_aiosqlite() -> None:
    logger = logging.getLogger("aiosqlite")
    if _AIOSQLITE_FILTER not in logger.filters:
        logger.addFilter(_AIOSQLITE_FILTER)


def create_engine_from_url(
    url: str, *, echo: bool = False, pool: dict[str, int] | None = None
) -> AsyncEngine:
    """Build an async engine for `url` (plain `sqlite:///` and `postgresql://` are accepted).

    `hide_parameters`: SQLAlchemy otherwise puts a failed statement's parameters (message
    text, names) into the exception, which is logged with its traceback, and into the
    statement log.

    A SQLite file's folder is created if missing: the default URL points into `var/`, and a
    first run should not fail on an empty checkout.
    """
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        timeout = _connect_timeout(parsed.query.get("connect_timeout"))
        parsed = parsed.difference_update_query(["connect_timeout"])
        return _create_async_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            pool_pre_ping=True,
            connect_args={"timeout": timeout},
            **(pool or {}),
        )

    _quiet_aiosqlite()
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = _create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        # Statements of the hot path run on the loop's thread (bot/db/sqlite_on_loop.py).
        connect_args={
            "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
            "async_creator_fn": sqlite_on_loop.connect,
        },
    )
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _connect_timeout(value: str | tuple[str, ...] | None) -> float:
    """libpq's `connect_timeout` URL parameter (seconds; 0 or less = the default)."""
    if isinstance(value, tuple):
        value = value[-1] if value else None
    if value is None:
        return CONNECT_TIMEOUT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(
            "connect_timeout in the database URL must be a number of seconds"
        ) from None
    return seconds if seconds > 0 else CONNECT_TIMEOUT_SECONDS


def _configure_sqlite_connection(dbapi_connection: Any, _connection_record: Any) -> None:
    # None hands transaction control to SQLAlchemy (see _begin_immediate); the pragmas must
    # run outside any transaction, which is why they are here and not in a migration.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


#: Execution option marking the engine of `Database.read` sessions.
_READ_ONLY: Final = "evidence_desk_read_only"


def _begin_immediate(connection: Connection) -> None:
    # A writer takes the write lock at BEGIN, so it cannot fail half-way on a lock upgrade;
    # a reader takes a WAL snapshot and no lock at all.
    if connection.get_execution_options().get(_READ_ONLY):
        connection.exec_driver_sql("BEGIN")
        return
    pending = _PENDING_TURN.get()
    # This process's writers take turns (bot/db/turns.py), from their first statement. Only
    # the task that opened the transaction takes its turn: a task started inside it inherits
    # the variable, and a statement of its own (`ping`, `engine.begin()`), perhaps after the
    # transaction has ended, would take that turn and never give it back.
    if pending is not None and pending.owner is asyncio.current_task():
        await_(pending.take())
    connection.exec_driver_sql("BEGIN IMMEDIATE")


#: The write turn of the SQLite transaction the running task has open, taken at its BEGIN.
_PENDING_TURN: ContextVar[LazyTurn | None] = ContextVar("evidence_desk_write_turn", default=None)


@asynccontextmanager
async def _closing(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """`async with session`, without its cost when the transaction committed.

    AsyncSession's own exit shields the close in a task of its own, which costs the caller
    three turns of the event loop: under a burst, the journal's insert (and so every
    acknowledgement waiting on it) waited that much longer. After a commit the connection is
    already back in the pool and closing does no I/O, so it is awaited directly; after a
    failure the shielded close is kept, as it may still have a connection to give back."""
    try:
        yield session
    except BaseException:
        await session.__aexit__(None, None, None)
        raise
    await session.close()


#: The unit of work the running task is inside, if any: (database, its session).
_UNIT_OF_WORK: ContextVar[tuple[Database, AsyncSession] | None] = ContextVar(
    "evidence_desk_unit_of_work", default=None
)


class Database:
    """An engine and its session factory, created once per process and shared by services.

    Sessions do not expire objects on commit, so values read inside a transaction can still be
    turned into views after it; services return frozen views, never ORM objects.
    """

    def __init__(self, engine: AsyncEngine, urgent_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self._urgent_engine = urgent_engine
        self._urgent_sessions: async_sessionmaker[AsyncSession] | None = (
            async_sessionmaker(urgent_engine, expire_on_commit=False) if urgent_engine else None
        )
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )
        self._readers: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )
        # SQLite has one writer at a time; this process's transactions queue for it here
        # (bot/db/turns.py), with the acknowledgement path's journal writes served first.
        self._sqlite_turns: WriteTurns | None = (
            WriteTurns() if engine.dialect.name == "sqlite" else None
        )

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False) -> Database:
        engine = create_engine_from_url(url, echo=echo)
        urgent = None
        if engine.dialect.name != "sqlite":
            # A few connections of its own for urgent work, so journalling an event never
            # waits for a connection behind answering work that holds the main pool.
            urgent = create_engine_from_url(
                url, echo=echo, pool={"pool_size": 2, "max_overflow": 2}
            )
        return cls(engine, urgent)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`, for the few statements that differ (upserts)."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction for a whole piece of work: every `transaction()` opened inside it,
        however deep in the services, joins it (as a savepoint), so a state change, the
        messages it causes (outbox rows) and the inbound event marked done commit together
        or not at all. A crash between "ticket claimed" and "card updated" cannot leave one
        without the other.

        Opened inside another unit of work, it is a savepoint of that one. Tasks started
        inside inherit it; a task that must commit on its own resets `_UNIT_OF_WORK` (the
        journal's group writer does)."""
        async with self.transaction() as session:
            ambient = _UNIT_OF_WORK.get()
            if ambient is not None and ambient[0] is self:
                yield session  # already the outer unit's savepoint
                return
            token = _UNIT_OF_WORK.set((self, session))
            try:
                yield session
            finally:
                _UNIT_OF_WORK.reset(token)

    @property
    def in_unit_of_work(self) -> bool:
        ambient = _UNIT_OF_WORK.get()
        return ambient is not None and ambient[0] is self

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        Inside a unit of work (`unit_of_work`) it is a savepoint of that unit's transaction:
        an error rolls back this part only, and nothing is committed until the unit is.

        `urgent`: for the work an acknowledgement waits on. On SQLite it goes before queued
        ordinary transactions; on PostgreSQL it has connections of its own. Urgent work
        never joins a unit of work: it commits at once, on its own."""
        ambient = _UNIT_OF_WORK.get()
        if ambient is not None and ambient[0] is self and not urgent:
            session = ambient[1]
            async with session.begin_nested():
                yield session
            return
        if self._sqlite_turns is None:
            sessions = self._urgent_sessions if urgent and self._urgent_sessions else self.sessions
            async with _closing(sessions()) as session, session.begin():
                yield session
            return
        # The write turn is taken at the transaction's first statement (its BEGIN, see
        # _begin_immediate), not here, and given up as soon as the transaction has ended.
        turn = self._sqlite_turns.when_needed(urgent=urgent)
        token = _PENDING_TURN.set(turn)
        try:
            async with _closing(self.sessions()) as session:
                try:
                    async with session.begin():
                        yield session
                finally:
                    turn.give_back()
        finally:
            _PENDING_TURN.reset(token)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A transaction that only reads: one consistent snapshot. On SQLite it neither waits
        for the writer's turn nor holds it (WAL readers run beside the writer), so lookups on
        the answering path do not queue behind writes. Writing in it is an error on SQLite."""
        async with _closing(self._readers()) as session, session.begin():
            yield session

    async def ping(self, within: float = PING_TIMEOUT_SECONDS) -> None:
        """Check the database answers; raise if it does not (`DatabaseUnavailable` when it
        took longer than `within` seconds, else the driver's error, which
        `is_database_unavailable` recognises). A reachable database costs one round trip."""
        try:
            async with asyncio.timeout(within), self.engine.connect() as connection:
                # A reader's BEGIN: a health check never queues for SQLite's write lock.
                reader = await connection.execution_options(**{_READ_ONLY: True})
                await reader.execute(text("SELECT 1"))
        except TimeoutError as exc:
            raise DatabaseUnavailable(f"the database did not answer within {within:g} s") from exc

    async def dispose(self) -> None:
        """Close every pooled connection; call once at shutdown (and per test)."""
        await self.engine.dispose()
        if self._urgent_engine is not None:
            await self._urgent_engine.dispose()
