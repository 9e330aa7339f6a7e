"""Finding the ticket a message belongs to, from where it was written."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from bot.db.models import Ticket
from bot.db.session import Database
from bot.desk.tickets.lifecycle import OPEN_STATUSES, TicketStatus
from bot.desk.tickets.posts import references_asked_in
from bot.desk.tickets.store import ticket_view
from bot.desk.tickets.values import Origin, Person
from bot.desk.tickets.views import TicketView
from bot.messages import IncomingMessage


def may_be_a_reply(message: IncomingMessage) -> bool:
    """False when the message cannot be a requester's reply, so `awaiting_reply_in` need not
    ask the database: a channel message that starts its own thread (Slack gives a thread's
    root its own timestamp as thread id). A reply is posted in the thread of the request, after
    the specialist's question, so it is never that thread's root. Direct messages are always
    looked up: a request made in a direct chat waits for its reply outside any thread."""
    return message.is_direct or message.thread_id is None or message.thread_id != message.message_id


async def awaiting_reply_in(
    db: Database, origin: Origin, person: Person, *, direct: bool = False
) -> TicketView | None:
    """The ticket waiting for this requester's answer in this thread, if there is one.

    Only the requester's own messages, while a specialist's question is open, count as a
    reply, and only where they can answer: in the thread the request came from (or, for a
    request made outside a thread, such as in a direct message, outside any thread), or where
    the question itself landed (the thread under it, or the direct conversation the platform
    opened for it: see bot/desk/tickets/posts.py). `direct`: the message was written in a direct
    conversation with the bot. Anything else is an ordinary message.
    """
    found = await _awaiting_in_origin(db, origin, person)
    if found is not None:
        return found
    # In the thread under a question, every reply of the requester's is relayed while the
    # request is open; in a direct conversation, only while a question waits (otherwise each
    # of their messages there would be taken as a reply, and none answered).
    in_thread = await references_asked_in(
        db, origin.platform, origin.channel_id, origin.thread_id, direct=False
    )
    in_direct = (
        await references_asked_in(db, origin.platform, origin.channel_id, None, direct=True)
        if direct and not origin.thread_id
        else []
    )
    if not in_thread and not in_direct:
        return None
    open_statuses = [status.value for status in OPEN_STATUSES]
    async with db.read() as session:
        ticket_id = await session.scalar(
            select(Ticket.id)
            .where(
                or_(
                    and_(Ticket.reference.in_(in_thread), Ticket.status.in_(open_statuses)),
                    and_(
                        Ticket.reference.in_(in_direct),
                        Ticket.status == TicketStatus.AWAITING_REQUESTER.value,
                    ),
                ),
                Ticket.requester_platform == person.platform,
                Ticket.requester_user_id == person.user_id,
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return None if ticket_id is None else await ticket_view(session, ticket_id)


async def _awaiting_in_origin(db: Database, origin: Origin, person: Person) -> TicketView | None:
    thread = (
        Ticket.origin_thread_id.is_(None)
        if origin.thread_id is None
        else Ticket.origin_thread_id == origin.thread_id
    )
    async with db.read() as session:
        ticket_id = await session.scalar(
            select(Ticket.id)
            .where(
                Ticket.origin_platform == origin.platform,
                Ticket.origin_channel_id == origin.channel_id,
                thread,
                Ticket.requester_platform == person.platform,
                Ticket.requester_user_id == person.user_id,
                Ticket.status == TicketStatus.AWAITING_REQUESTER.value,
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return None if ticket_id is None else await ticket_view(session, ticket_id)


async def requests_of(db: Database, person: Person, limit: int = 10) -> tuple[TicketView, ...]:
    """A requester's most recent requests, newest first (for their home view)."""
    async with db.read() as session:
        ids = (
            await session.scalars(
                select(Ticket.id)
                .where(
                    Ticket.requester_platform == person.platform,
                    Ticket.requester_user_id == person.user_id,
                )
                .order_by(Ticket.id.desc())
                .limit(limit)
            )
        ).all()
        return tuple([await ticket_view(session, ticket_id) for ticket_id in ids])
