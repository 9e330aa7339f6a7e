"""Human ticket references, `KLS-2026-00042`: prefix, year, and a per-year sequence.

Numbers come from `reference_counters`, one row per prefix and year, bumped by a single
upsert (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`) inside the transaction that creates
the ticket. Both PostgreSQL and SQLite execute that atomically, so concurrent requests can
never be handed the same number; the row lock it takes is held until the ticket is committed,
and a failed creation rolls the counter back with it, so sequences have no gaps.
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ReferenceCounter
from bot.desk.tickets.errors import BadReference

__all__ = ["allocate_reference", "format_reference", "parse_reference"]

SEQUENCE_DIGITS: Final = 5
_REFERENCE_RE: Final = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]{0,15})-(\d{4})-(\d{1,9})\s*$")


def format_reference(prefix: str, year: int, number: int) -> str:
    """`KLS-2026-00042`; a year's ticket 100,000 simply gets six digits."""
    return f"{prefix}-{year:04d}-{number:0{SEQUENCE_DIGITS}d}"


def parse_reference(text: str, prefix: str) -> str:
    """The canonical form of a typed reference ("kls-2026-42" -> "KLS-2026-00042").

    Raises BadReference for anything else, so that callers never look up, or repeat back,
    arbitrary text.
    """
    match = _REFERENCE_RE.match(text)
    if match is None:
        raise BadReference(prefix)
    typed_prefix, year, number = match.groups()
    return format_reference(typed_prefix.upper(), int(year), int(number))


async def allocate_reference(session: AsyncSession, prefix: str, year: int) -> str:
    """Take the next number for `prefix` and `year`, in the caller's transaction."""
    statement = _upsert(session.get_bind().dialect.name)
    result = await session.execute(
        statement.values(prefix=prefix, year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[ReferenceCounter.prefix, ReferenceCounter.year],
            set_={"last_value": ReferenceCounter.last_value + 1},
        )
        .returning(ReferenceCounter.last_value)
    )
    return format_reference(prefix, year, result.scalar_one())


def _upsert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(ReferenceCounter)
    if dialect == "sqlite":
        return sqlite.insert(ReferenceCounter)
    raise ValueError(f"no upsert for the {dialect} dialect")  # pragma: no cover
