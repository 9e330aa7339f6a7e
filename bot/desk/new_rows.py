"""Adding something that must be new (an admin account, a specialist): one transaction, and a
clash with what exists said in words."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from bot.db.session import Database
from bot.errors import UserFacingError

Row = TypeVar("Row")


async def add_new(db: Database, row: Row, exists: str) -> Row:
    """`row` inserted in its own transaction, flushed so that its id is set. When it clashes
    with a unique key the person is told `exists` (what is already there), never shown the
    database's error."""
    try:
        async with db.transaction() as session:
            session.add(row)
            await session.flush()
            return row
    except IntegrityError as exc:
        raise UserFacingError(exists) from exc
