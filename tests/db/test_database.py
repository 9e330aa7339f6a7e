"""Database plumbing: URLs from settings, UTC timestamps, and SQLite's per-connection setup."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from bot.config import Settings
from bot.config.database_url import normalize_database_url
from bot.db.models import InboundEvent
from bot.db.session import Database


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db/evidence", "postgresql+asyncpg://u:p@db/evidence"),
        ("postgresql://u@db:5432/evidence", "postgresql+asyncpg://u@db:5432/evidence"),
        ("sqlite:///var/x.sqlite3", "sqlite+aiosqlite:///var/x.sqlite3"),
        ("sqlite+aiosqlite:///x.sqlite3", "sqlite+aiosqlite:///x.sqlite3"),
    ],
)
def test_database_url_is_rewritten_to_an_async_driver(given: str, used: str) -> None:
    assert Settings(database_url=given).database_url == used


def test_database_url_is_read_from_either_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://platform@db/x")
    assert Settings().database_url == "postgresql+asyncpg://platform@db/x"
    monkeypatch.setenv("EVIDENCE_DESK_DATABASE_URL", "sqlite:///mine.sqlite3")
    assert Settings().database_url == "sqlite+aiosqlite:///mine.sqlite3"


def test_default_database_is_a_local_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("EVIDENCE_DESK_DATABASE_URL", raising=False)
    assert Settings().database_url == "sqlite+aiosqlite:///var/evidence-desk.sqlite3"


def test_unsupported_database_is_refused_naming_only_the_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme 'mysql'") as raised:
        normalize_database_url("mysql://user:secret@db/x")
    assert "secret" not in str(raised.value)
    with pytest.raises(ValidationError):
        Settings(database_url="mysql://user@db/x")


def journalled(at: datetime) -> InboundEvent:
    return InboundEvent(platform="slack", event_id="Ev1", payload="{}", received_at=at, attempts=1)


async def test_timestamps_come_back_timezone_aware_in_utc(database: Database) -> None:
    london_summer = timezone(timedelta(hours=1))
    at = datetime(2026, 6, 1, 10, 30, tzinfo=london_summer)
    async with database.transaction() as session:
        session.add(journalled(at))
    async with database.transaction() as session:
        stored = await session.scalar(select(InboundEvent.received_at))
    assert stored == at
    assert stored is not None and stored.utcoffset() == timedelta(0)


async def test_naive_timestamps_are_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with database.transaction() as session:
            session.add(journalled(datetime(2026, 6, 1)))


async def test_sqlite_connections_enforce_foreign_keys_and_use_wal(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite connection settings")
    async with database.engine.connect() as connection:
        assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
