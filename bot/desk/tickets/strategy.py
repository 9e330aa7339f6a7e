"""A ticket's search-strategy starter, stored beside it as JSON (handlers/strategy.py makes it).

Kept apart from the ticket's view and service: the starter is for specialists only, so it is
read only where a specialist asks for it, never carried along with every ticket.
"""

from __future__ import annotations

from sqlalchemy import select, update

from bot.db.models import Ticket
from bot.db.session import Database


async def save_strategy(db: Database, reference: str, document: str) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Ticket).where(Ticket.reference == reference).values(strategy=document)
        )


async def load_strategy(db: Database, reference: str) -> str | None:
    async with db.transaction() as session:
        document: str | None = await session.scalar(
            select(Ticket.strategy).where(Ticket.reference == reference)
        )
        return document
