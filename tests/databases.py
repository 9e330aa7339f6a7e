"""The test databases: where PostgreSQL is, a migrated SQLite template, and a fast reset.

Migrating is the slow part of a fresh database (seven Alembic revisions, 0.1-0.3 s on SQLite
and more on PostgreSQL), so it happens once per test session per engine:

- SQLite: one file is migrated with the real `upgrade` and each test gets a byte copy of it
  (a millisecond), so every test still has its own real, migrated file.
- PostgreSQL: one database is created and migrated per session; before each test its rows are
  deleted and its id sequences restarted in one round trip (TRUNCATE of 25 tables takes
  0.5-1 s on a busy machine; this takes about 50 ms and leaves the same empty tables).

PostgreSQL is the server named by EVIDENCE_DESK_TEST_POSTGRES_URL, or, when that is unset, the
default local one (DEFAULT_POSTGRES_URL) if it answers. EVIDENCE_DESK_TEST_POSTGRES_URL=off
skips the PostgreSQL variants even when a server is there.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from bot.config.database_url import normalize_database_url
from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.db.session import Database

POSTGRES_ENV = "EVIDENCE_DESK_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
#: What the PostgreSQL variants skip with, set by `find_postgres` when there is no server.
NO_POSTGRES: list[str] = []

T = TypeVar("T")


def run_outside_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop in a private thread.

    Session fixtures are set up from inside a test's running event loop; a thread keeps
    their loop (and engines) separate from it.
    """
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(make()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin(server_url: str, statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the server's maintenance database."""
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _answers(url: str, within: float) -> bool:
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=within)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    try:
        return bool(await connection.fetchval("SELECT 1") == 1)
    finally:
        await connection.close()


def find_postgres() -> str | None:
    """The PostgreSQL server for this test run, or None (and why, in NO_POSTGRES).

    Sets EVIDENCE_DESK_TEST_POSTGRES_URL to the server found, so the fault tests' subprocesses
    and every fixture see one answer.
    """
    configured = os.environ.get(POSTGRES_ENV, "").strip()
    if configured.lower() in {"off", "no", "false", "0"}:
        NO_POSTGRES[:] = [f"{POSTGRES_ENV}={configured}"]
        return None
    url = normalize_database_url(configured or DEFAULT_POSTGRES_URL)
    if not configured and not run_outside_loop(lambda: _answers(url, 3.0)):
        NO_POSTGRES[:] = [
            f"{POSTGRES_ENV} is unset and no PostgreSQL server answers at the default "
            f"{DEFAULT_POSTGRES_URL}"
        ]
        return None
    os.environ[POSTGRES_ENV] = url
    return url


def postgres_server() -> str | None:
    """The server chosen by `find_postgres` at the start of the run (None: skip)."""
    if NO_POSTGRES:
        return None
    server = os.environ.get(POSTGRES_ENV, "").strip()
    return normalize_database_url(server) if server else None


def skip_reason() -> str:
    return f"PostgreSQL variant skipped: {NO_POSTGRES[0] if NO_POSTGRES else POSTGRES_ENV}"


def database_url_on(server: str, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def reset_statement(url: str) -> str:
    """One statement that empties every table (children first) and restarts every sequence
    of the migrated database at `url`: what TRUNCATE ... RESTART IDENTITY does, minus the
    per-table file work that makes TRUNCATE slow."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        names = await connection.fetch(
            "SELECT schemaname, sequencename FROM pg_sequences ORDER BY sequencename"
        )
    finally:
        await connection.close()
    tables = reversed(Base.metadata.sorted_tables)  # our own schema's names, not input
    deletes = [f'DELETE FROM "{table.name}"' for table in tables]  # noqa: S608
    restarts = [f'ALTER SEQUENCE "{schema}"."{name}" RESTART' for schema, name in names]
    return "; ".join(deletes + restarts)


async def empty_postgres(database: Database, statement: str) -> None:
    """Run `reset_statement`'s statement in one transaction and one round trip."""
    async with database.engine.begin() as connection:
        raw = await connection.get_raw_connection()
        await raw.driver_connection.execute(statement)  # type: ignore[union-attr]


def copy_database_file(template: Path, target: Path) -> str:
    """A copy of the migrated template at `target`; its sqlite+aiosqlite URL."""
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


@dataclass(frozen=True)
class MigratedPostgres:
    """A database migrated once for the session, and the statement that empties it."""

    url: str
    reset: str


@contextmanager
def migrated_postgres_database(server: str, prefix: str) -> Iterator[MigratedPostgres]:
    """A freshly created, migrated database on `server`, dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    run_outside_loop(lambda: admin(server, f'CREATE DATABASE "{name}"'))
    url = database_url_on(server, name)
    try:
        run_outside_loop(lambda: upgrade(url))
        yield MigratedPostgres(url, run_outside_loop(lambda: reset_statement(url)))
    finally:
        run_outside_loop(lambda: admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrated_sqlite_file(path: Path) -> Path:
    """`path`, created and migrated with the real `upgrade`."""
    run_outside_loop(lambda: upgrade(f"sqlite+aiosqlite:///{path}"))
    return path
