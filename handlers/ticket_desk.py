"""The ticket desk: a search request from the form to the specialist's card, and the
conversation around it until the evidence is delivered.

Where to look:
- the form, its checks and its privacy gate: handlers/intake.py;
- where a ticket changes state: bot/desk/tickets/service.py (one method a step), by the rules in
  bot/desk/tickets/lifecycle.py;
- the specialist's card and reminders (text and buttons): handlers/cards.py;
- who is told what, where: handlers/notices.py;
- a specialist's steps (claim, ask, update, complete ...): handlers/specialist.py;
- the impact questions after delivery: handlers/impact.py;
- unclaimed and overdue reminders: handlers/escalations.py.

`TicketDesk` makes those parts from one set of services and holds the requester's side:
submitting a request and relaying their replies. It speaks only in neutral forms, replies and
outbox messages, so Slack, Teams and the web chat share it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime

from bot.clock import utc_now
from bot.delivery.outbox import Destination, Outbox
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.calendar import OFFICE_HOURS, is_working_time, next_working_start
from bot.desk.tickets.routing import RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.strategy import save_strategy
from bot.desk.tickets.values import Origin, Person, Purpose, TicketDraft
from bot.desk.tickets.views import TicketView
from bot.messages import Form, Intent, Outcome, Reply, RequestPrefill
from bot.signing import Signer
from handlers.cards import when
from handlers.impact import ImpactQuestions
from handlers.intake import (
    PRIVACY_ACK,
    PRIVACY_ACK_VALUE,
    FormState,
    check_values,
    privacy_errors,
    request_form,
)
from handlers.notices import TicketNotices
from handlers.specialist import SpecialistActions
from handlers.strategy import StrategyStarter

log = logging.getLogger(__name__)


class TicketDesk:
    """Search requests, as one object the front door (handlers/desk.py) holds: named apart
    from `EvidenceDesk`, which answers every message and holds this among other things."""

    def __init__(
        self,
        tickets: TicketService,
        routing: RoutingService,
        outbox: Outbox,
        scanner: PrivacyScanner,
        general_queue: Destination | None = None,
        clock: Callable[[], datetime] = utc_now,
        signposts: Callable[[str], str | None] = lambda question: None,
        signer: Signer | None = None,
        unrouted: Callable[[str], None] = lambda reference: None,
        strategist: Callable[[TicketView], StrategyStarter] | None = None,
    ) -> None:
        self.signer = signer or Signer.random()  # signs the request form's state
        #: Drafts the search-strategy starter from the stored (redacted) ticket; None: no starter.
        self.strategist = strategist
        self.tickets = tickets
        self.routing = routing
        self.outbox = outbox
        self.scanner = scanner
        self._clock = clock
        self._signposts = signposts  # search links offered while waiting (handlers/signposts.py)
        #: Told of each request that reached no one (the app counts them in a metric).
        self.unrouted = unrouted
        self.notices = TicketNotices(tickets, routing, outbox, general_queue)
        self.specialist = SpecialistActions(tickets, routing, self.notices, scanner)
        self.impact = ImpactQuestions(tickets)

    # ---- intake ---------------------------------------------------------------------------

    def open_form(self, prefill: RequestPrefill | None, origin: Origin) -> Form:
        safe = prefill
        if prefill is not None and self.scanner.scan(prefill.topic):
            safe = RequestPrefill(
                self.scanner.redact(prefill.topic), prefill.deadline_text, prefill.deadline
            )
        state = FormState(origin.channel_id, origin.thread_id).encode(self.signer)
        return request_form(safe, state=state)

    async def submit(
        self,
        person: Person,
        values: Mapping[str, str],
        form_state: str,
        submission_id: str | None,
        today: date | None = None,
    ) -> Outcome:
        """Check, privacy-gate, store, route and notify. Nothing is stored unless it is clean
        or the person chose to send it with the identifiers removed."""
        state = FormState.decode(form_state, self.signer)  # TamperedForm if not ours
        origin = Origin(person.platform, state.channel_id, state.thread_id)
        checked, errors = check_values(values, today or self._clock().date())
        if checked is None:
            return Outcome(form=request_form(values=values, errors=errors, state=form_state))
        found = privacy_errors(values, self.scanner)
        if found and values.get(PRIVACY_ACK) != PRIVACY_ACK_VALUE:
            # Errors beside each field with a finding, and on the choice to send them removed.
            found[PRIVACY_ACK] = (
                "Some answers look like patient-identifiable details. Remove them, or choose "
                "this to send the request with them taken out."
            )
            return Outcome(
                form=request_form(
                    values=values,
                    errors=found,
                    notice=(
                        "Some answers look like patient-identifiable details. Please remove "
                        "them, or choose to send the request with them taken out."
                    ),
                    state=form_state,
                )
            )
        draft = TicketDraft(
            requester=person,
            origin=origin,
            question=checked.question,
            purpose=Purpose(checked.purpose),
            deadline=checked.deadline,
            date_range=checked.date_range or None,
            population=checked.population or None,
            study_types=checked.study_types or None,
            key_papers=checked.key_papers or None,
            output_format=checked.output_format or None,
            notes=checked.notes or None,
        )
        ticket = await self.tickets.create(draft, submission_id)
        await self._store_strategy(ticket)
        assignee = await self.routing.choose_assignee(origin.platform, origin.channel_id)
        reply_to = Destination(
            person.platform, origin.channel_id or person.user_id, origin.thread_id
        )
        if not await self.notices.post_card(ticket, assignee):
            self.unrouted(ticket.reference)
            return Outcome(reply=self._stranded_reply(ticket), reply_to=reply_to)
        return Outcome(reply=self._created_reply(ticket, assignee), reply_to=reply_to)

    async def _store_strategy(self, ticket: TicketView) -> None:
        """Draft the specialist's search-strategy starter from the ticket as stored: the
        redacted text, never what was typed. A starter that cannot be made loses no request."""
        if self.strategist is None:
            return
        try:
            # Off the event loop: the first one loads MeSH (a few seconds, once a process).
            starter = await asyncio.to_thread(self.strategist, ticket)
        except Exception:
            log.exception("no search-strategy starter for %s", ticket.reference)
            return
        await save_strategy(self.tickets.database, ticket.reference, starter.to_json())

    def _stranded_reply(self, ticket: TicketView) -> Reply:
        """The truth when no specialist could be told: saved, not yet seen by anyone."""
        return self._receipt(
            ticket,
            f"Your request **{ticket.reference}** is saved, but no knowledge specialist is set "
            "up to receive requests from here yet, so nobody has been notified. The library's admins "
            "have been alerted. If it is urgent, please contact the library directly and quote "
            f"{ticket.reference}.",
        )

    def _created_reply(self, ticket: TicketView, assignee: SpecialistView | None) -> Reply:
        who = assignee.display_name if assignee else "the library's knowledge specialists"
        lines = [
            f"Thanks, your request **{ticket.reference}** is with {who}.",
            f"You should hear back within 1 working day; it is due by **{ticket.due_date:%A %-d %B %Y}**.",
        ]
        now = self._clock()
        hours = assignee.hours if assignee else OFFICE_HOURS
        if not is_working_time(now, hours):
            lines.append(
                f"The team is away right now, so expect a first reply from {when(next_working_start(now, hours))}."
            )
        return self._receipt(ticket, *lines)

    def _receipt(self, ticket: TicketView, *lines: str) -> Reply:
        """What the requester is told on submitting, with what every receipt says after it."""
        said = list(lines)
        if ticket.privacy_redacted:
            said.append("Patient-identifiable details were removed before it was saved.")
        said.append("Replies about it will come to this conversation.")
        if signpost := self._signposts(ticket.question):  # the stored, redacted question
            said.append(signpost)
        return Reply(text="\n".join(said), intent=Intent.SEARCH_REQUEST, title=ticket.reference)

    # ---- the requester's replies ----------------------------------------------------------

    async def requester_replied(self, ticket: TicketView, text: str) -> Reply:
        """Relay the requester's answer to the specialists' card thread and store it."""
        updated = await self.tickets.requester_replied(ticket.reference, text)
        await self.notices.to_card_thread(
            updated,
            f"Reply from the requester of **{updated.reference}**:\n{self.scanner.redact(text)}",
        )
        await self.notices.refresh_card(updated)
        return Reply(
            text=f"Thanks, I've passed that on ({updated.reference}).", intent=Intent.SEARCH_REQUEST
        )
