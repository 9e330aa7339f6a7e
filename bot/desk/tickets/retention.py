"""Retention: the free text of long-closed tickets is deleted, their history is not.

What a requester wrote (question, scope, messages, impact comments) is only needed while the
work is live and for a while after, in case it is reopened. Statuses, dates, the audit trail
and impact answers hold no free text and are what reports are built from, so they are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Ticket, TicketImpact, TicketMessage
from bot.desk.tickets.lifecycle import TicketStatus
from bot.desk.tickets.store import write_event
from bot.desk.tickets.values import SYSTEM

__all__ = ["purge_text_closed_before"]

_BATCH: Final = 500  # keeps each IN (...) list well inside both databases' limits
_PURGEABLE: Final = (TicketStatus.CLOSED.value, TicketStatus.CANCELLED.value)


async def purge_text_closed_before(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
    """Blank the free text of tickets closed or cancelled before `cutoff`; returns how many."""
    ids = (
        await session.scalars(
            select(Ticket.id)
            .where(
                Ticket.status.in_(_PURGEABLE),
                Ticket.closed_at < cutoff,
                Ticket.text_purged_at.is_(None),
            )
            .order_by(Ticket.id)
        )
    ).all()
    for start in range(0, len(ids), _BATCH):
        await _purge(session, ids[start : start + _BATCH], now)
    return len(ids)


async def _purge(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.id.in_(ids))
        .values(
            question="",
            date_range=None,
            population=None,
            study_types=None,
            key_papers=None,
            output_format=None,
            notes=None,
            strategy=None,
            text_purged_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(TicketMessage)
        .where(TicketMessage.ticket_id.in_(ids))
        .values(text="", links=[], attachment_ref=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(TicketImpact)
        .where(TicketImpact.ticket_id.in_(ids))
        .values(comment=None)
        .execution_options(synchronize_session=False)
    )
    for ticket_id in ids:
        write_event(session, ticket_id, at=now, actor=SYSTEM, action="text_purged")
