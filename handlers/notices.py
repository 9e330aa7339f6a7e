"""Who hears about a ticket, and where: the card in the specialists' queue, the thread under
it, and the requester's original conversation.

Every message about a ticket goes out through the outbox from here, so "where does the
requester's message go" and "which queue gets the card" each have one answer. The ticket's state
itself changes in bot/desk/tickets/service.py; this only tells people about it.
"""

from __future__ import annotations

import logging

from bot.delivery.outbox import CARD_THREAD, Destination, Outbox
from bot.desk.tickets.escalation import EscalationKind
from bot.desk.tickets.posts import card_key, escalation_posts
from bot.desk.tickets.routing import RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.views import TicketView
from bot.messages import Button, Intent, Reply
from handlers.cards import card, escalation_reply

log = logging.getLogger(__name__)


class TicketNotices:
    def __init__(
        self,
        tickets: TicketService,
        routing: RoutingService,
        outbox: Outbox,
        general_queue: Destination | None,
    ) -> None:
        self.tickets = tickets
        self.routing = routing
        self.outbox = outbox
        #: Where a card goes when neither a route nor an assignee says otherwise; None: nowhere.
        self.general_queue = general_queue

    async def queue_for(
        self, ticket: TicketView, assignee: SpecialistView | None
    ) -> Destination | None:
        """The channel a ticket's route names, else the assignee's direct chat (on the
        requester's platform if they have one there), else the general queue."""
        route = await self.routing.route_for(ticket.origin.platform, ticket.origin.channel_id)
        if route is not None and route.notify_platform and route.notify_channel_id:
            return Destination(route.notify_platform, route.notify_channel_id)
        if assignee is not None and assignee.identities:
            preferred = next(
                (i for i in assignee.identities if i.platform == ticket.origin.platform),
                assignee.identities[0],
            )
            return Destination(preferred.platform, preferred.user_id)
        return self.general_queue

    async def post_card(self, ticket: TicketView, assignee: SpecialistView | None) -> bool:
        """Queue the card; False when it has nowhere to go (the admins are told: see
        bot/desk/tickets/stranded.py)."""
        destination = await self.queue_for(ticket, assignee)
        if destination is None:
            log.warning(
                "ticket %s has no route, specialist or general queue to go to", ticket.reference
            )
            return False
        await self.outbox.enqueue(destination, card(ticket), card_key=card_key(ticket.reference))
        return True

    async def refresh_card(self, ticket: TicketView) -> None:
        """Re-render every message that carries the ticket's buttons: its card and each
        escalation about it, so no message offers a step the ticket has moved past."""
        destination = await self.queue_for(ticket, None)
        if destination is not None:
            await self.outbox.enqueue(
                destination, card(ticket), card_key=card_key(ticket.reference)
            )
        for post in await escalation_posts(self.tickets.database, ticket.reference):
            await self.outbox.enqueue(
                Destination(post.platform, post.channel_id),
                escalation_reply(EscalationKind(post.kind), ticket),
                card_key=post.key,
            )

    async def changed(
        self,
        ticket: TicketView,
        *,
        requester: str | None = None,
        card_thread: str | None = None,
        buttons: tuple[Button, ...] = (),
        tracked_as: str | None = None,
    ) -> None:
        """After a step: the card re-rendered first, then what the requester (and/or the
        specialists under the card) are told about it."""
        await self.refresh_card(ticket)
        if requester is not None:
            await self.tell_requester(ticket, requester, buttons=buttons, tracked_as=tracked_as)
        if card_thread is not None:
            await self.to_card_thread(ticket, card_thread)

    async def tell_requester(
        self,
        ticket: TicketView,
        text: str,
        *,
        buttons: tuple[Button, ...] = (),
        tracked_as: str | None = None,
    ) -> None:
        """Said in the conversation the request came from. `tracked_as`: a key under which the
        posted message is remembered (a question, so that a reply where it landed is
        recognised: bot/desk/tickets/posts.py)."""
        origin = ticket.origin
        await self.outbox.enqueue(
            Destination(origin.platform, origin.channel_id, origin.thread_id),
            Reply(text=text, intent=Intent.SEARCH_REQUEST, buttons=buttons),
            card_key=tracked_as,
        )

    async def to_card_thread(self, ticket: TicketView, text: str) -> None:
        """Said under the ticket's card, where only specialists are."""
        queue = await self.queue_for(ticket, None)
        if queue is not None:
            await self.outbox.enqueue(
                Destination(
                    queue.platform, queue.channel_id, CARD_THREAD + card_key(ticket.reference)
                ),
                Reply(text=text, intent=Intent.SEARCH_REQUEST),
            )
