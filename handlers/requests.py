"""Search requests from intake to delivery: the conversation around a ticket.

The ticket service (bot/desk/tickets) owns the rules of a ticket's life; this module decides what
people see at each step: the intake form and its privacy gate, the specialist's card with
Claim / Ask requester / Complete, the messages relayed to the requester's original thread, and
the impact questions after delivery. It speaks only in neutral forms, replies and outbox
messages, so Slack, Teams and the web chat share it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime

from bot.clock import utc_now
from bot.delivery.outbox import CARD_THREAD, Destination, Outbox
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.calendar import OFFICE_HOURS, is_working_time, next_working_start
from bot.desk.tickets.escalation import Audience, Escalation, EscalationKind
from bot.desk.tickets.lifecycle import FINISHED_STATUSES, OPEN_STATUSES, TicketStatus
from bot.desk.tickets.posts import asked_key, card_key, escalation_key, escalation_posts
from bot.desk.tickets.routing import RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.strategy import load_strategy, save_strategy
from bot.desk.tickets.values import (
    Actor,
    ImpactAnswers,
    ImpactUse,
    Origin,
    Person,
    Purpose,
    TicketDraft,
)
from bot.desk.tickets.views import TicketView
from bot.errors import UserFacingError
from bot.messages import Button, Choice, Form, FormField, Intent, Reply, RequestPrefill
from bot.messages import Outcome as Outcome  # re-exported: where it was first
from bot.signing import Signer
from handlers.intake import (
    PRIVACY_ACK,
    PRIVACY_ACK_VALUE,
    PURPOSES,
    FormState,
    check_values,
    privacy_errors,
    request_form,
)
from handlers.strategy import StrategyStarter
from handlers.wording import person_label, wording

log = logging.getLogger(__name__)

# Action names: what a button or form means, the same on every platform.
OPEN_REQUEST = "request_open"
SUBMIT_REQUEST = "request_submit"
CLAIM = "ticket_claim"
ASK = "ticket_ask"
SUBMIT_ASK = "ticket_ask_submit"
COMPLETE = "ticket_complete"
SUBMIT_COMPLETE = "ticket_complete_submit"
IMPACT = "ticket_impact"
SUBMIT_IMPACT = "ticket_impact_submit"
NOTE = "ticket_note"
SUBMIT_NOTE = "ticket_note_submit"
UPDATE = "ticket_update"
SUBMIT_UPDATE = "ticket_update_submit"
REASSIGN = "ticket_reassign"
SUBMIT_REASSIGN = "ticket_reassign_submit"
CANCEL = "ticket_cancel"
SUBMIT_CANCEL = "ticket_cancel_submit"
REOPEN = "ticket_reopen"
STRATEGY = "ticket_strategy"
SUBMIT_STRATEGY = "ticket_strategy_submit"
#: The longest text a form's text area takes on every platform (a Slack modal's limit).
_FORM_TEXT_LIMIT = 3000

_PURPOSE_LABELS = {c.value: c.label for c in PURPOSES}
_STATUS_LABELS = {
    TicketStatus.NEW: "New: waiting for a specialist",
    TicketStatus.CLAIMED: "Claimed",
    TicketStatus.IN_PROGRESS: "In progress",
    TicketStatus.AWAITING_REQUESTER: "Waiting for the requester",
    TicketStatus.COMPLETED: "Completed",
    TicketStatus.CLOSED: "Closed",
    TicketStatus.CANCELLED: "Cancelled",
}
_WORKING = frozenset(
    {TicketStatus.CLAIMED, TicketStatus.IN_PROGRESS, TicketStatus.AWAITING_REQUESTER}
)
_UNCLAIMABLE = frozenset({TicketStatus.CLAIMED, TicketStatus.IN_PROGRESS})
_BACK_TO_QUEUE = "queue"
IMPACT_USES: tuple[Choice, ...] = (
    Choice(ImpactUse.PATIENT_CARE_DECISION.value, "A decision about a patient's care"),
    Choice(ImpactUse.SERVICE_CHANGE.value, "A change to a service or pathway"),
    Choice(ImpactUse.TEACHING.value, "Teaching or learning"),
    Choice(ImpactUse.RESEARCH.value, "Research or audit"),
    Choice(ImpactUse.POLICY.value, "A policy or guideline"),
    Choice(ImpactUse.OTHER.value, "Something else"),
)


def _when(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B} at {moment:%H:%M}"


class RequestDesk:
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
        self.general_queue = general_queue
        self._clock = clock
        self._signposts = signposts  # search links offered while waiting (handlers/signposts.py)
        #: Told of each request that reached no one (the app counts them in a metric).
        self.unrouted = unrouted

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
        if not await self._post_card(ticket, assignee):
            self.unrouted(ticket.reference)
            return Outcome(
                reply=self._stranded_reply(ticket),
                reply_to=Destination(
                    person.platform, origin.channel_id or person.user_id, origin.thread_id
                ),
            )
        return Outcome(
            reply=self._created_reply(ticket, assignee),
            reply_to=Destination(
                person.platform, origin.channel_id or person.user_id, origin.thread_id
            ),
        )

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

    async def strategy_form(self, reference: str, person: Person) -> Form:
        """The starter as an editable draft, for a specialist only; saving it keeps the edited
        version as an internal note."""
        await self._specialist(person)
        ticket = await self.tickets.get(reference)
        document = await load_strategy(self.tickets.database, ticket.reference)
        if document is None:
            raise UserFacingError(
                f"{ticket.reference} has no search-strategy starter (it was made before they "
                "existed, its text was deleted, or the MeSH vocabulary is not installed)."
            )
        text = StrategyStarter.from_json(document).to_text()
        if len(text) > _FORM_TEXT_LIMIT:
            text = text[: _FORM_TEXT_LIMIT - 20].rstrip() + "\n[... shortened]"
        return Form(
            form_id=SUBMIT_STRATEGY,
            title=f"Search strategy starter: {ticket.reference}",
            submit_label="Save as internal note",
            fields=(
                FormField(
                    "note",
                    "Draft strategy (edit or copy it)",
                    "textarea",
                    True,
                    value=text,
                    max_length=_FORM_TEXT_LIMIT,
                ),
            ),
            notice=(
                "A machine-made draft to start your search from, not advice. The requester "
                "does not see it. Saving keeps your edited version as an internal note."
            ),
            state=ticket.reference,
        )

    def _stranded_reply(self, ticket: TicketView) -> Reply:
        """The truth when no specialist could be told: saved, not yet seen by anyone."""
        lines = [
            f"Your request **{ticket.reference}** is saved, but no knowledge specialist is set "
            "up to receive requests from here yet, so nobody has been notified. The library's admins "
            "have been alerted. If it is urgent, please contact the library directly and quote "
            f"{ticket.reference}."
        ]
        if ticket.privacy_redacted:
            lines.append("Patient-identifiable details were removed before it was saved.")
        lines.append("Replies about it will come to this conversation.")
        if signpost := self._signposts(ticket.question):  # the stored, redacted question
            lines.append(signpost)
        return Reply(text="\n".join(lines), intent=Intent.SEARCH_REQUEST, title=ticket.reference)

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
                f"The team is away right now, so expect a first reply from {_when(next_working_start(now, hours))}."
            )
        if ticket.privacy_redacted:
            lines.append("Patient-identifiable details were removed before it was saved.")
        lines.append("Replies about it will come to this conversation.")
        if signpost := self._signposts(ticket.question):  # the stored, redacted question
            lines.append(signpost)
        return Reply(text="\n".join(lines), intent=Intent.SEARCH_REQUEST, title=ticket.reference)

    # ---- the specialist's card --------------------------------------------------------------

    def card(self, ticket: TicketView) -> Reply:
        """The ticket as specialists see it; re-rendered in place whenever it changes."""
        lines = [
            f"**{ticket.reference}**: {ticket.question}",
            f"Purpose: {_PURPOSE_LABELS.get(ticket.purpose.value, ticket.purpose.value)}"
            + ("  (patient care: priority)" if ticket.priority == 1 else ""),
            f"Due: {ticket.due_date:%a %-d %b %Y}"
            + (f" (requester's deadline {ticket.deadline:%-d %b})" if ticket.deadline else ""),
            f"From: {person_label(ticket.requester.display_name, ticket.requester.platform)}"
            f" ({wording(ticket.requester.platform).platform_name})",
            f"Status: {_STATUS_LABELS[ticket.status]}"
            + (f" by {ticket.assignee_name}" if ticket.assignee_name else ""),
        ]
        for label, value in (
            ("Years", ticket.date_range),
            ("Population", ticket.population),
            ("Evidence types", ticket.study_types),
            ("Known papers", ticket.key_papers),
            ("Output", ticket.output_format),
            ("Notes", ticket.notes),
        ):
            if value:
                lines.append(f"{label}: {value}")
        return Reply(
            text="\n".join(lines),
            intent=Intent.SEARCH_REQUEST,
            title=ticket.reference,
            buttons=self.actions(ticket),
        )

    @staticmethod
    def actions(ticket: TicketView) -> tuple[Button, ...]:
        """Every step a specialist can take on the ticket as it is now (the same buttons on
        the card, in escalation messages and in the web specialist view)."""
        ref, status = ticket.reference, ticket.status
        buttons: list[Button] = []
        if status is TicketStatus.NEW:
            buttons.append(Button("Claim", CLAIM, ref, "primary"))
        if status in _WORKING:
            buttons += [
                Button("Ask requester", ASK, ref),
                Button("Send update", UPDATE, ref),
                Button("Complete", COMPLETE, ref, "primary"),
            ]
        if status in OPEN_STATUSES:
            buttons.append(Button("Search strategy starter", STRATEGY, ref))
        if status in OPEN_STATUSES:
            # Unclaiming is one of its choices ("back to the queue"): a Teams card shows at
            # most six actions side by side (the rest go to its "..." menu: bot/platforms/teams/cards.py).
            buttons.append(Button("Reassign", REASSIGN, ref))
        buttons.append(Button("Add note", NOTE, ref))
        if status in OPEN_STATUSES:
            buttons.append(Button("Cancel request", CANCEL, ref, "danger"))
        if status in FINISHED_STATUSES:
            buttons.append(Button("Reopen", REOPEN, ref))
        return tuple(buttons)

    async def _queue_for(
        self, ticket: TicketView, assignee: SpecialistView | None
    ) -> Destination | None:
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

    async def _post_card(self, ticket: TicketView, assignee: SpecialistView | None) -> bool:
        """Queue the card; False when it has nowhere to go (the admins are told: see
        bot/desk/tickets/stranded.py)."""
        destination = await self._queue_for(ticket, assignee)
        if destination is None:
            log.warning(
                "ticket %s has no route, specialist or general queue to go to", ticket.reference
            )
            return False
        await self.outbox.enqueue(
            destination, self.card(ticket), card_key=card_key(ticket.reference)
        )
        return True

    async def _refresh_card(self, ticket: TicketView) -> None:
        """Re-render every message that carries the ticket's buttons: its card and each
        escalation about it, so no message offers a step the ticket has moved past."""
        destination = await self._queue_for(ticket, None) or self.general_queue
        if destination is not None:
            await self.outbox.enqueue(
                destination, self.card(ticket), card_key=card_key(ticket.reference)
            )
        for post in await escalation_posts(self.tickets.database, ticket.reference):
            await self.outbox.enqueue(
                Destination(post.platform, post.channel_id),
                self._escalation_reply(EscalationKind(post.kind), ticket),
                card_key=post.key,
            )

    async def _tell_requester(
        self, ticket: TicketView, reply: Reply, *, tracked_as: str | None = None
    ) -> None:
        """`tracked_as`: a key under which the posted message is remembered (a question, so
        that a reply where it landed is recognised: bot/desk/tickets/posts.py)."""
        origin = ticket.origin
        await self.outbox.enqueue(
            Destination(origin.platform, origin.channel_id, origin.thread_id),
            reply,
            card_key=tracked_as,
        )

    async def _specialist(self, person: Person) -> SpecialistView:
        specialist = await self.routing.specialist_for(person.platform, person.user_id)
        if specialist is None or not specialist.is_active:
            raise UserFacingError(
                "Only the library's knowledge specialists can work on requests. "
                "If that should include you, ask a library admin to add you."
            )
        return specialist

    # ---- specialist actions ---------------------------------------------------------------

    async def claim(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.claim(reference, specialist.id)
        await self._refresh_card(ticket)
        await self._tell_requester(
            ticket,
            Reply(
                text=f"{specialist.display_name} has picked up your request **{ticket.reference}**.",
                intent=Intent.SEARCH_REQUEST,
            ),
        )
        return Reply(
            text=f"You have claimed {ticket.reference}.",
            intent=Intent.SEARCH_REQUEST,
            ephemeral=True,
        )

    def ask_form(self, reference: str) -> Form:
        return _text_form(
            reference, SUBMIT_ASK, f"Ask about {reference}", "Send question",
            "question", "Your question for the requester",
            required=True, max_length=2000,
        )  # fmt: skip

    async def ask(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        question = (values.get("question") or "").strip()
        if not question:
            errors = (("question", "Please write your question."),)
            return Outcome(form=replace(self.ask_form(reference), errors=errors))
        specialist = await self._specialist(person)
        ticket = await self.tickets.ask_requester(reference, specialist.id, question)
        await self._refresh_card(ticket)
        await self._tell_requester(
            ticket,
            Reply(
                text=(
                    f"{specialist.display_name} has a question about your request **{ticket.reference}**:\n"
                    f"{self.scanner.redact(question)}\n"
                    + wording(ticket.requester.platform).reply_here
                ),
                intent=Intent.SEARCH_REQUEST,
            ),
            tracked_as=asked_key(ticket.reference),
        )
        return Outcome(
            reply=Reply(
                text=f"Question sent to the requester of {ticket.reference}.",
                intent=Intent.SEARCH_REQUEST,
                ephemeral=True,
            )
        )

    async def requester_replied(self, ticket: TicketView, text: str) -> Reply:
        """Relay the requester's answer to the specialists' card thread and store it."""
        updated = await self.tickets.requester_replied(ticket.reference, text)
        queue = await self._queue_for(updated, None)
        if queue is not None:
            await self.outbox.enqueue(
                Destination(
                    queue.platform, queue.channel_id, CARD_THREAD + card_key(updated.reference)
                ),
                Reply(
                    text=f"Reply from the requester of **{updated.reference}**:\n{self.scanner.redact(text)}",
                    intent=Intent.SEARCH_REQUEST,
                ),
                card_key=None,
            )
        await self._refresh_card(updated)
        return Reply(
            text=f"Thanks, I've passed that on ({updated.reference}).", intent=Intent.SEARCH_REQUEST
        )

    # ---- notes, updates and the rest of a specialist's steps ----------------------------

    def note_form(self, reference: str) -> Form:
        return _text_form(
            reference, SUBMIT_NOTE, f"Note on {reference}", "Add note",
            "note", "Internal note (specialists only; never sent to the requester)",
            required=True, max_length=3000,
        )  # fmt: skip

    async def add_note(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        """An internal note: stored on the ticket and shown in the card's thread, where only
        specialists are; nothing goes to the requester."""
        text = (values.get("note") or "").strip()
        if not text:
            errors = (("note", "Please write the note."),)
            return Outcome(form=replace(self.note_form(reference), errors=errors))
        specialist = await self._specialist(person)
        note = await self.tickets.add_note(reference, Actor.specialist(specialist.id), text)
        ticket = await self.tickets.get(reference)
        await self._to_card_thread(
            ticket,
            f"Internal note from {specialist.display_name} on **{ticket.reference}**:\n{note.text}",
        )
        return self._done(f"Note added to {ticket.reference}.")

    async def note_from_thread(self, reference: str, person: Person, text: str) -> Reply | None:
        """A specialist wrote in the card's thread: kept as an internal note (it is already
        on show there, where only specialists are). Anyone else's words there are left be."""
        specialist = await self.routing.specialist_for(person.platform, person.user_id)
        if specialist is None or not specialist.is_active or not text.strip():
            return None
        await self.tickets.add_note(reference, Actor.specialist(specialist.id), text)
        return Reply(
            text=f"Saved as an internal note on {reference} (the requester does not see it).",
            intent=Intent.SEARCH_REQUEST,
            ephemeral=True,
        )

    def update_form(self, reference: str) -> Form:
        return _text_form(
            reference, SUBMIT_UPDATE, f"Update on {reference}", "Send update",
            "update", "Your update for the requester",
            required=True, max_length=2000,
        )  # fmt: skip

    async def send_update(
        self, reference: str, person: Person, values: Mapping[str, str]
    ) -> Outcome:
        """A progress update to the requester; no reply is awaited (that is "Ask requester")."""
        text = (values.get("update") or "").strip()
        if not text:
            errors = (("update", "Please write your update."),)
            return Outcome(form=replace(self.update_form(reference), errors=errors))
        specialist = await self._specialist(person)
        ticket = await self.tickets.send_update(reference, specialist.id, text)
        await self._refresh_card(ticket)
        await self._tell_requester(
            ticket,
            Reply(
                text=(
                    f"An update on your request **{ticket.reference}** from {specialist.display_name}:\n"
                    f"{self.scanner.redact(text)}"
                ),
                intent=Intent.SEARCH_REQUEST,
            ),
        )
        return self._done(f"Update sent to the requester of {ticket.reference}.")

    async def unclaim(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.unclaim(reference, Actor.specialist(specialist.id))
        await self._refresh_card(ticket)
        await self._to_card_thread(
            ticket, f"{specialist.display_name} handed **{ticket.reference}** back to the queue."
        )
        return Reply(
            text=f"{ticket.reference} is back in the queue.",
            intent=Intent.SEARCH_REQUEST,
            ephemeral=True,
        )

    async def reassign_form(self, reference: str) -> Form:
        ticket = await self.tickets.get(reference)
        choices = tuple(
            Choice(str(s.id), s.display_name)
            for s in await self.routing.list_specialists()
            if s.is_active and s.id != ticket.assignee_id
        )
        if ticket.status in _UNCLAIMABLE:
            choices = (Choice(_BACK_TO_QUEUE, "Nobody: back to the queue (unclaim)"), *choices)
        if not choices:
            raise UserFacingError("There is no other active specialist to give it to.")
        return Form(
            form_id=SUBMIT_REASSIGN,
            title=f"Reassign {ticket.reference}",
            submit_label="Reassign",
            fields=(FormField("specialist", "Give it to", "choice", True, choices=choices),),
            state=ticket.reference,
        )

    async def reassign(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        if values.get("specialist") == _BACK_TO_QUEUE:
            return Outcome(reply=await self.unclaim(reference, person))
        specialist = await self._specialist(person)
        chosen = next(
            (
                s
                for s in await self.routing.list_specialists()
                if str(s.id) == values.get("specialist") and s.is_active
            ),
            None,
        )
        if chosen is None:
            form = await self.reassign_form(reference)
            return Outcome(form=replace(form, errors=(("specialist", "Please choose someone."),)))
        ticket = await self.tickets.reassign(reference, chosen.id, Actor.specialist(specialist.id))
        await self._refresh_card(ticket)
        await self._to_card_thread(
            ticket,
            f"{specialist.display_name} gave **{ticket.reference}** to {chosen.display_name}.",
        )
        return self._done(f"{ticket.reference} is now with {chosen.display_name}.")

    def cancel_form(self, reference: str) -> Form:
        return _text_form(
            reference, SUBMIT_CANCEL, f"Cancel {reference}", "Cancel request",
            "reason", "Why (kept as an internal note; the requester is told it was cancelled)",
            required=False, max_length=1000,
        )  # fmt: skip

    async def cancel(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        specialist = await self._specialist(person)
        reason = (values.get("reason") or "").strip() or None
        ticket = await self.tickets.cancel(reference, Actor.specialist(specialist.id), reason)
        await self._refresh_card(ticket)
        await self._tell_requester(
            ticket,
            Reply(
                text=(
                    f"Your request **{ticket.reference}** has been cancelled by "
                    f"{specialist.display_name}. Contact the library if you still need it."
                ),
                intent=Intent.SEARCH_REQUEST,
            ),
        )
        return self._done(f"{ticket.reference} cancelled.")

    async def reopen(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.reopen(reference, Actor.specialist(specialist.id))
        await self._refresh_card(ticket)
        await self._tell_requester(
            ticket,
            Reply(
                text=f"Your request **{ticket.reference}** has been reopened by {specialist.display_name}.",
                intent=Intent.SEARCH_REQUEST,
            ),
        )
        return Reply(
            text=f"{ticket.reference} reopened.", intent=Intent.SEARCH_REQUEST, ephemeral=True
        )

    async def _to_card_thread(self, ticket: TicketView, text: str) -> None:
        """Said under the ticket's card, where only specialists are."""
        queue = await self._queue_for(ticket, None) or self.general_queue
        if queue is not None:
            await self.outbox.enqueue(
                Destination(
                    queue.platform, queue.channel_id, CARD_THREAD + card_key(ticket.reference)
                ),
                Reply(text=text, intent=Intent.SEARCH_REQUEST),
            )

    @staticmethod
    def _done(text: str) -> Outcome:
        return Outcome(reply=Reply(text=text, intent=Intent.SEARCH_REQUEST, ephemeral=True))

    def complete_form(self, reference: str) -> Form:
        return Form(
            form_id=SUBMIT_COMPLETE,
            title=f"Complete {reference}",
            submit_label="Send to requester",
            fields=(
                FormField(
                    "summary", "Summary for the requester", "textarea", True, max_length=3000
                ),
                FormField(
                    "links",
                    "Links (one a line): results, search strategy",
                    "textarea",
                    False,
                    max_length=3000,
                ),
                FormField(
                    "attachment", "Attached file (name or location)", "text", False, max_length=500
                ),
            ),
            state=reference,
        )

    async def complete(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        summary = (values.get("summary") or "").strip()
        links = [line.strip() for line in (values.get("links") or "").splitlines() if line.strip()]
        bad = [link for link in links if not link.startswith(("https://", "http://"))]
        errors = {}
        if not summary:
            errors["summary"] = "Please write a short summary for the requester."
        if bad:
            errors["links"] = "Each line should be one web address starting with https://"
        if errors:
            return Outcome(
                form=replace(self.complete_form(reference), errors=tuple(errors.items()))
            )
        specialist = await self._specialist(person)
        ticket = await self.tickets.complete(
            reference, specialist.id, summary, links, values.get("attachment") or None
        )
        await self._refresh_card(ticket)
        link_lines = "\n".join(f"- {link}" for link in links)
        attachment = self.scanner.redact((values.get("attachment") or "").strip())
        await self._tell_requester(
            ticket,
            Reply(
                text=(
                    f"Your evidence for **{ticket.reference}** is ready, from {specialist.display_name}:\n"
                    f"{self.scanner.redact(summary)}"
                    + (f"\n{link_lines}" if links else "")
                    + (f"\nAttached file: {attachment}" if attachment else "")
                    + "\nDid it help? Two quick questions help the library show its impact."
                ),
                intent=Intent.SEARCH_REQUEST,
                buttons=(Button("Tell us how it helped", IMPACT, ticket.reference, "primary"),),
            ),
        )
        return Outcome(
            reply=Reply(
                text=f"{ticket.reference} completed and sent.",
                intent=Intent.SEARCH_REQUEST,
                ephemeral=True,
            )
        )

    def impact_form(self, reference: str) -> Form:
        return Form(
            form_id=SUBMIT_IMPACT,
            title=f"How did {reference} help?",
            submit_label="Send",
            fields=(
                FormField(
                    "helped",
                    "Did the evidence help?",
                    "choice",
                    True,
                    choices=(Choice("yes", "Yes"), Choice("no", "No")),
                ),
                FormField(
                    "how_used", "How did you use it?", "multichoice", False, choices=IMPACT_USES
                ),
                FormField(
                    "time_saved_hours",
                    "Roughly how many hours did it save you?",
                    "text",
                    False,
                    max_length=10,
                ),
                FormField("comment", "Anything else?", "textarea", False, max_length=1000),
            ),
            state=reference,
        )

    async def record_impact(
        self, reference: str, person: Person, values: Mapping[str, str]
    ) -> Outcome:
        helped = values.get("helped")
        hours_raw = (values.get("time_saved_hours") or "").strip()
        errors: dict[str, str] = {}
        if helped not in {"yes", "no"}:
            errors["helped"] = "Please choose yes or no."
        hours: float | None = None
        if hours_raw:
            try:
                hours = float(hours_raw)
                if hours < 0 or hours > 1000:
                    raise ValueError
            except ValueError:
                errors["time_saved_hours"] = "Please give a number of hours, like 2 or 1.5."
        uses = {u for u in (values.get("how_used") or "").split(",") if u}
        if not uses <= {c.value for c in IMPACT_USES}:
            errors["how_used"] = "Please choose from the list."
        if errors:  # shown again with what the person chose, so nothing is lost
            return Outcome(form=_refilled(self.impact_form(reference), values, errors))
        ticket = await self.tickets.get(reference)
        if ticket.requester != Person(
            person.platform, person.user_id, ticket.requester.display_name
        ):
            raise UserFacingError(
                "Only the person who asked for this search can answer these questions."
            )
        await self.tickets.record_impact(
            reference,
            ImpactAnswers(
                respondent=Actor.person(person.platform, person.user_id),
                helped=helped == "yes",
                how_used=frozenset(ImpactUse(u) for u in uses),
                time_saved_hours=hours,
                comment=(values.get("comment") or "").strip() or None,
            ),
        )
        return Outcome(
            reply=Reply(
                text="Thank you, that helps the library show the difference it makes.",
                intent=Intent.SMALLTALK,
                ephemeral=True,
            )
        )

    # ---- escalations ----------------------------------------------------------------------

    async def escalate(self, escalation: Escalation) -> int:
        """Tell the right people about an unclaimed, nearly due or overdue request; returns
        how many messages were queued."""
        ticket = await self.tickets.get(escalation.reference)
        reply = self._escalation_reply(escalation.kind, ticket)
        destinations: list[Destination] = []
        if escalation.audience is Audience.GENERAL_QUEUE:
            queue = await self._queue_for(ticket, None)
            destinations = [d for d in (queue, self.general_queue) if d is not None][:1]
        else:
            wanted = set(escalation.specialist_ids)
            for specialist in await self.routing.list_specialists():
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
            await self.outbox.enqueue(destination, reply, card_key=key)
        return len(destinations)

    def _escalation_reply(self, kind: EscalationKind, ticket: TicketView) -> Reply:
        ref, due = ticket.reference, ticket.due_date
        text = {
            EscalationKind.UNCLAIMED: f"**{ref}** has not been claimed yet. Can someone take it?",
            EscalationKind.DUE_TOMORROW: f"Reminder: **{ref}** is due {due:%A %-d %B}.",
            EscalationKind.OVERDUE: f"**{ref}** is overdue (it was due {due:%-d %B}).",
        }[kind]
        if not ticket.is_open or (
            kind is EscalationKind.UNCLAIMED and ticket.status is not TicketStatus.NEW
        ):
            text += f"\nNow: {_STATUS_LABELS[ticket.status]}" + (
                f" by {ticket.assignee_name}" if ticket.assignee_name else ""
            )
        return Reply(text=text, intent=Intent.SEARCH_REQUEST, buttons=self.actions(ticket))


def _refilled(form: Form, values: Mapping[str, str], errors: Mapping[str, str]) -> Form:
    """The form again with the person's answers in it and the errors beside them."""
    fields = tuple(replace(f, value=values.get(f.name, f.value)) for f in form.fields)
    return replace(form, fields=fields, errors=tuple(errors.items()))


def _text_form(
    reference: str,
    form_id: str,
    title: str,
    submit_label: str,
    name: str,
    label: str,
    *,
    required: bool,
    max_length: int,
) -> Form:
    """A ticket's one-question form (ask, note, update, cancel): one text area, the ticket's
    reference as its state."""
    return Form(
        form_id=form_id,
        title=title,
        submit_label=submit_label,
        fields=(FormField(name, label, "textarea", required, max_length=max_length),),
        state=reference,
    )
