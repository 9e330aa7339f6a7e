"""A specialist's steps on a ticket: claim, ask the requester, send an update, add a note,
reassign, cancel, reopen, complete, and open the search-strategy starter.

Each step checks that the person is an active specialist, asks the ticket service to make the
change (the state itself changes in bot/desk/tickets/service.py, by the rules in
bot/desk/tickets/lifecycle.py), re-renders the card (handlers/notices.py) and tells the
requester or the card's thread in words. The one-question forms that start a step are here too,
beside the step they feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.lifecycle import TicketStatus
from bot.desk.tickets.posts import asked_key
from bot.desk.tickets.routing import RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.strategy import load_strategy
from bot.desk.tickets.values import Actor, Person
from bot.errors import UserFacingError
from bot.messages import Button, Choice, Form, FormField, Intent, Outcome, Reply
from handlers.actions import (
    IMPACT,
    SUBMIT_ASK,
    SUBMIT_CANCEL,
    SUBMIT_COMPLETE,
    SUBMIT_NOTE,
    SUBMIT_REASSIGN,
    SUBMIT_STRATEGY,
    SUBMIT_UPDATE,
)
from handlers.notices import TicketNotices
from handlers.strategy import StrategyStarter
from handlers.wording import wording

#: The longest text a form's text area takes on every platform (a Slack modal's limit).
_FORM_TEXT_LIMIT = 3000
#: Reassigning to this "person" hands the ticket back to the queue (unclaim).
_BACK_TO_QUEUE = "queue"
_UNCLAIMABLE = frozenset({TicketStatus.CLAIMED, TicketStatus.IN_PROGRESS})


class SpecialistActions:
    def __init__(
        self,
        tickets: TicketService,
        routing: RoutingService,
        notices: TicketNotices,
        scanner: PrivacyScanner,
    ) -> None:
        self.tickets = tickets
        self.routing = routing
        self.notices = notices
        self.scanner = scanner  # what is relayed to the requester is redacted again

    async def _specialist(self, person: Person) -> SpecialistView:
        specialist = await self.routing.specialist_for(person.platform, person.user_id)
        if specialist is None or not specialist.is_active:
            raise UserFacingError(
                "Only the library's knowledge specialists can work on requests. "
                "If that should include you, ask a library admin to add you."
            )
        return specialist

    # ---- claim and the question to the requester ------------------------------------------

    async def claim(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.claim(reference, specialist.id)
        await self.notices.changed(
            ticket,
            requester=f"{specialist.display_name} has picked up your request **{ticket.reference}**.",
        )
        return _ephemeral(f"You have claimed {ticket.reference}.")

    def ask_form(self, reference: str) -> Form:
        return _text_form(
            reference, SUBMIT_ASK, f"Ask about {reference}", "Send question",
            "question", "Your question for the requester",
            required=True, max_length=2000,
        )  # fmt: skip

    async def ask(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        question = (values.get("question") or "").strip()
        if not question:
            return _again(self.ask_form(reference), {"question": "Please write your question."})
        specialist = await self._specialist(person)
        ticket = await self.tickets.ask_requester(reference, specialist.id, question)
        await self.notices.changed(
            ticket,
            requester=(
                f"{specialist.display_name} has a question about your request "
                f"**{ticket.reference}**:\n{self.scanner.redact(question)}\n"
                + wording(ticket.requester.platform).reply_here
            ),
            tracked_as=asked_key(ticket.reference),
        )
        return _done(f"Question sent to the requester of {ticket.reference}.")

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
            return _again(self.note_form(reference), {"note": "Please write the note."})
        specialist = await self._specialist(person)
        note = await self.tickets.add_note(reference, Actor.specialist(specialist.id), text)
        ticket = await self.tickets.get(reference)
        await self.notices.to_card_thread(
            ticket,
            f"Internal note from {specialist.display_name} on **{ticket.reference}**:\n{note.text}",
        )
        return _done(f"Note added to {ticket.reference}.")

    async def note_from_thread(self, reference: str, person: Person, text: str) -> Reply | None:
        """A specialist wrote in the card's thread: kept as an internal note (it is already
        on show there, where only specialists are). Anyone else's words there are left be."""
        specialist = await self.routing.specialist_for(person.platform, person.user_id)
        if specialist is None or not specialist.is_active or not text.strip():
            return None
        await self.tickets.add_note(reference, Actor.specialist(specialist.id), text)
        return _ephemeral(
            f"Saved as an internal note on {reference} (the requester does not see it)."
        )

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
            return _again(self.update_form(reference), {"update": "Please write your update."})
        specialist = await self._specialist(person)
        ticket = await self.tickets.send_update(reference, specialist.id, text)
        await self.notices.changed(
            ticket,
            requester=(
                f"An update on your request **{ticket.reference}** from "
                f"{specialist.display_name}:\n{self.scanner.redact(text)}"
            ),
        )
        return _done(f"Update sent to the requester of {ticket.reference}.")

    async def unclaim(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.unclaim(reference, Actor.specialist(specialist.id))
        await self.notices.changed(
            ticket,
            card_thread=f"{specialist.display_name} handed **{ticket.reference}** back to the queue.",
        )
        return _ephemeral(f"{ticket.reference} is back in the queue.")

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
            return _again(
                await self.reassign_form(reference), {"specialist": "Please choose someone."}
            )
        ticket = await self.tickets.reassign(reference, chosen.id, Actor.specialist(specialist.id))
        await self.notices.changed(
            ticket,
            card_thread=f"{specialist.display_name} gave **{ticket.reference}** to {chosen.display_name}.",
        )
        return _done(f"{ticket.reference} is now with {chosen.display_name}.")

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
        await self.notices.changed(
            ticket,
            requester=(
                f"Your request **{ticket.reference}** has been cancelled by "
                f"{specialist.display_name}. Contact the library if you still need it."
            ),
        )
        return _done(f"{ticket.reference} cancelled.")

    async def reopen(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.reopen(reference, Actor.specialist(specialist.id))
        await self.notices.changed(
            ticket,
            requester=f"Your request **{ticket.reference}** has been reopened by {specialist.display_name}.",
        )
        return _ephemeral(f"{ticket.reference} reopened.")

    # ---- delivering the evidence -----------------------------------------------------------

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
        """Deliver the evidence and ask the requester the impact questions (handlers/impact.py)."""
        summary = (values.get("summary") or "").strip()
        links = [line.strip() for line in (values.get("links") or "").splitlines() if line.strip()]
        bad = [link for link in links if not link.startswith(("https://", "http://"))]
        errors = {}
        if not summary:
            errors["summary"] = "Please write a short summary for the requester."
        if bad:
            errors["links"] = "Each line should be one web address starting with https://"
        if errors:
            return _again(self.complete_form(reference), errors)
        specialist = await self._specialist(person)
        ticket = await self.tickets.complete(
            reference, specialist.id, summary, links, values.get("attachment") or None
        )
        link_lines = "\n".join(f"- {link}" for link in links)
        attachment = self.scanner.redact((values.get("attachment") or "").strip())
        await self.notices.changed(
            ticket,
            requester=(
                f"Your evidence for **{ticket.reference}** is ready, from "
                f"{specialist.display_name}:\n{self.scanner.redact(summary)}"
                + (f"\n{link_lines}" if links else "")
                + (f"\nAttached file: {attachment}" if attachment else "")
                + "\nDid it help? Two quick questions help the library show its impact."
            ),
            buttons=(Button("Tell us how it helped", IMPACT, ticket.reference, "primary"),),
        )
        return _done(f"{ticket.reference} completed and sent.")


def _ephemeral(text: str) -> Reply:
    """Said only to the specialist who acted."""
    return Reply(text=text, intent=Intent.SEARCH_REQUEST, ephemeral=True)


def _again(form: Form, errors: Mapping[str, str]) -> Outcome:
    """The form shown again with what is missing said beside each field."""
    return Outcome(form=replace(form, errors=tuple(errors.items())))


def _done(text: str) -> Outcome:
    return Outcome(reply=_ephemeral(text))


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
