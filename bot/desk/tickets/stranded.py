"""Requests that reached no one: made where no route, no specialist and no general queue
could take them. Nothing is dropped silently: the requester is told at once (handlers/
requests.py), and the admins see it here, on /readyz, in the admin console and as a metric."""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select

from bot.db.models import Route, Ticket, route_specialists
from bot.db.session import Database
from bot.desk.tickets.lifecycle import TicketStatus


async def stranded_requests(db: Database) -> int:
    """New, unassigned requests whose card had nowhere to go: no route for where they were
    made, or a route with neither a notification channel nor a specialist."""
    has_specialist = exists().where(route_specialists.c.route_id == Route.id)
    async with db.read() as session:
        count = await session.scalar(
            select(func.count(Ticket.id))
            .outerjoin(Route, Ticket.route_id == Route.id)
            .where(
                Ticket.status == TicketStatus.NEW.value,
                Ticket.assignee_id.is_(None),
                or_(
                    Ticket.route_id.is_(None),
                    (Route.notify_channel_id.is_(None)) & ~has_specialist,
                ),
            )
        )
    return int(count or 0)


async def routing_warning(db: Database, general_queue: str | None) -> str | None:
    """What an admin must hear about where requests go; None when every request has
    somewhere to go (a general queue catches whatever no route takes)."""
    if general_queue:
        return None
    count = await stranded_requests(db)
    if count:
        return (
            f"{count} request(s) reached no specialist: they came from places with no route, "
            "and no general queue is set (EVIDENCE_DESK_GENERAL_QUEUE). Set one, or route "
            "those channels, and look at them in Tickets."
        )
    return (
        "No general queue is set (EVIDENCE_DESK_GENERAL_QUEUE): a request from a channel "
        "with no route would reach no specialist."
    )
