"""Raising escalations at a given moment: the server's scheduler, and `evidence-desk
escalations run [--now ...] [--dry-run]` for operators and tests, share this one path.

Which tickets are due a reminder is decided (and recorded) in bot/desk/tickets/escalation.py;
here each one is sent to the right people. The reminder's words and buttons are in
handlers/cards.py, since it is re-rendered with the card whenever the ticket changes.

A dry run works out exactly what a real run would raise, in a transaction that is then
rolled back: nothing is recorded and nothing is sent.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.session import Database
from bot.delivery.outbox import Destination
from bot.desk.tickets.escalation import Audience, Escalation, due_escalations
from bot.desk.tickets.posts import escalation_key
from handlers.cards import escalation_reply
from handlers.notices import TicketNotices
from handlers.ticket_desk import TicketDesk


class _DryRun(Exception):
    """Raised inside the unit of work to roll it back, carrying what would have been raised."""

    def __init__(self, raised: list[Escalation]) -> None:
        super().__init__("dry run")
        self.raised = raised


async def run_escalations(
    db: Database,
    requests: TicketDesk,
    now: datetime,
    unclaimed_after_working_hours: float,
    *,
    dry_run: bool = False,
) -> list[Escalation]:
    """Record and send the escalations due at `now` (or, dry, only say which they are).
    Recorded and queued in one transaction: an escalation is never raised unsent."""
    try:
        async with db.unit_of_work():
            raised = await due_escalations(db, now, unclaimed_after_working_hours)
            for escalation in raised:
                await escalate(requests.notices, escalation)
            if dry_run:
                raise _DryRun(raised)
    except _DryRun as dry:
        return dry.raised
    return raised


async def escalate(notices: TicketNotices, escalation: Escalation) -> int:
    """Tell the right people about an unclaimed, nearly due or overdue request: the ticket's
    queue, or the named specialists' direct chats. Returns how many messages were queued."""
    ticket = await notices.tickets.get(escalation.reference)
    reply = escalation_reply(escalation.kind, ticket)
    destinations: list[Destination] = []
    if escalation.audience is Audience.GENERAL_QUEUE:
        queue = await notices.queue_for(ticket, None)
        destinations = [queue] if queue is not None else []
    else:
        wanted = set(escalation.specialist_ids)
        for specialist in await notices.routing.list_specialists():
            if specialist.id in wanted and specialist.identities:
                identity = specialist.identities[0]
                destinations.append(Destination(identity.platform, identity.user_id))
    for destination in destinations:
        # Tracked, so that it is re-rendered (its buttons with it) when the ticket changes.
        key = escalation_key(
            ticket.reference,
            escalation.kind.value,
            destination.platform,
            destination.channel_id,
        )
        await notices.outbox.enqueue(destination, reply, card_key=key)
    return len(destinations)
