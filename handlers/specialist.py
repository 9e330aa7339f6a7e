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
from dataclasses import dataclass, replace

from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.lifecycle import TicketStatus
from bot.desk.tickets.posts import asked_key
from bot.desk.tickets.routing import RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.strategy import load_strategy
from bot.desk.tickets.values import Actor, Person
from bot.desk.tickets.views import TicketView
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

    async def _told(
        self,
        ticket: TicketView,
        specialist: SpecialistView,
        said: _Said,
        *,
        buttons: tuple[Button, ...] = (),
        tracked_as: str | None = None,
        **words: str,
    ) -> Reply:
        """Every step ends alike: the changed ticket's card re-rendered, the requester and/or
        the card's thread told `said`'s words, and the specialist who acted told it is done.
        `words` are filled into `said`'s templates beside {who} and {reference}."""
        filled = said.fill(who=specialist.display_name, reference=ticket.reference, **words)
        await self.notices.changed(
            ticket,
            requester=filled.requester,
            card_thread=filled.card_thread,
            buttons=buttons,
            tracked_as=tracked_as,
        )
        return _ephemeral(filled.done)

    # ---- claim and the question to the requester ------------------------------------------

    async def claim(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.claim(reference, specialist.id)
        return await self._told(ticket, specialist, _CLAIMED)

    def ask_form(self, reference: str) -> Form:
        return _ASK.form(reference)

    async def ask(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        question = _ASK.answer(values)
        if not question:
            return _ASK.again(reference)
        specialist = await self._specialist(person)
        ticket = await self.tickets.ask_requester(reference, specialist.id, question)
        reply = await self._told(
            ticket,
            specialist,
            _ASKED,
            tracked_as=asked_key(ticket.reference),
            text=self.scanner.redact(question),
            reply_here=wording(ticket.requester.platform).reply_here,
        )
        return Outcome(reply=reply)

    # ---- notes, updates and the rest of a specialist's steps ----------------------------

    def note_form(self, reference: str) -> Form:
        return _NOTE.form(reference)

    async def add_note(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        """An internal note: stored on the ticket and shown in the card's thread, where only
        specialists are; nothing goes to the requester."""
        text = _NOTE.answer(values)
        if not text:
            return _NOTE.again(reference)
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
        return _UPDATE.form(reference)

    async def send_update(
        self, reference: str, person: Person, values: Mapping[str, str]
    ) -> Outcome:
        """A progress update to the requester; no reply is awaited (that is "Ask requester")."""
        text = _UPDATE.answer(values)
        if not text:
            return _UPDATE.again(reference)
        specialist = await self._specialist(person)
        ticket = await self.tickets.send_update(reference, specialist.id, text)
        reply = await self._told(ticket, specialist, _UPDATED, text=self.scanner.redact(text))
        return Outcome(reply=reply)

    async def unclaim(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.unclaim(reference, Actor.specialist(specialist.id))
        return await self._told(ticket, specialist, _UNCLAIMED)

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
        reply = await self._told(ticket, specialist, _REASSIGNED, chosen=chosen.display_name)
        return Outcome(reply=reply)

    def cancel_form(self, reference: str) -> Form:
        return _CANCEL.form(reference)

    async def cancel(self, reference: str, person: Person, values: Mapping[str, str]) -> Outcome:
        specialist = await self._specialist(person)
        reason = _CANCEL.answer(values) or None
        ticket = await self.tickets.cancel(reference, Actor.specialist(specialist.id), reason)
        return Outcome(reply=await self._told(ticket, specialist, _CANCELLED))

    async def reopen(self, reference: str, person: Person) -> Reply:
        specialist = await self._specialist(person)
        ticket = await self.tickets.reopen(reference, Actor.specialist(specialist.id))
        return await self._told(ticket, specialist, _REOPENED)

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
        reply = await self._told(
            ticket,
            specialist,
            _COMPLETED,
            buttons=(Button("Tell us how it helped", IMPACT, ticket.reference, "primary"),),
            text=self.scanner.redact(summary)
            + (f"\n{link_lines}" if links else "")
            + (f"\nAttached file: {attachment}" if attachment else ""),
        )
        return Outcome(reply=reply)


@dataclass(frozen=True)
class _Said:
    """What a step says, as templates of {who} (the specialist's name), {reference} (the
    ticket's) and the step's own words: `done` to the specialist who acted, `requester` in the
    conversation the request came from, `card_thread` to the specialists under the card. Only
    these constant templates are parsed; what is filled in is never read as a template."""

    done: str
    requester: str | None = None
    card_thread: str | None = None

    def fill(self, **words: str) -> _Said:
        return _Said(
            self.done.format(**words),
            self.requester.format(**words) if self.requester is not None else None,
            self.card_thread.format(**words) if self.card_thread is not None else None,
        )


_CLAIMED = _Said(
    "You have claimed {reference}.",
    requester="{who} has picked up your request **{reference}**.",
)
_ASKED = _Said(
    "Question sent to the requester of {reference}.",
    requester="{who} has a question about your request **{reference}**:\n{text}\n{reply_here}",
)
_UPDATED = _Said(
    "Update sent to the requester of {reference}.",
    requester="An update on your request **{reference}** from {who}:\n{text}",
)
_UNCLAIMED = _Said(
    "{reference} is back in the queue.",
    card_thread="{who} handed **{reference}** back to the queue.",
)
_REASSIGNED = _Said(
    "{reference} is now with {chosen}.",
    card_thread="{who} gave **{reference}** to {chosen}.",
)
_CANCELLED = _Said(
    "{reference} cancelled.",
    requester=(
        "Your request **{reference}** has been cancelled by {who}. "
        "Contact the library if you still need it."
    ),
)
_REOPENED = _Said(
    "{reference} reopened.",
    requester="Your request **{reference}** has been reopened by {who}.",
)
_COMPLETED = _Said(
    "{reference} completed and sent.",
    requester=(
        "Your evidence for **{reference}** is ready, from {who}:\n{text}"
        "\nDid it help? Two quick questions help the library show its impact."
    ),
)


@dataclass(frozen=True)
class _OneQuestion:
    """A ticket's one-question form (ask, note, update, cancel): one text area, the ticket's
    reference as its state and the end of its title. `missing` is said beside the field when
    it is left empty; without it the answer may be empty."""

    form_id: str
    title: str
    submit_label: str
    name: str
    label: str
    max_length: int
    missing: str | None = None

    def form(self, reference: str) -> Form:
        field = FormField(
            self.name, self.label, "textarea", self.missing is not None, max_length=self.max_length
        )
        return Form(
            form_id=self.form_id,
            title=f"{self.title} {reference}",
            submit_label=self.submit_label,
            fields=(field,),
            state=reference,
        )

    def answer(self, values: Mapping[str, str]) -> str:
        return (values.get(self.name) or "").strip()

    def again(self, reference: str) -> Outcome:
        """The form shown again, with what is missing said beside the field."""
        return _again(self.form(reference), {self.name: self.missing or ""})


_ASK = _OneQuestion(
    SUBMIT_ASK, "Ask about", "Send question", "question", "Your question for the requester",
    2000, missing="Please write your question.",
)  # fmt: skip
_NOTE = _OneQuestion(
    SUBMIT_NOTE, "Note on", "Add note",
    "note", "Internal note (specialists only; never sent to the requester)",
    3000, missing="Please write the note.",
)  # fmt: skip
_UPDATE = _OneQuestion(
    SUBMIT_UPDATE, "Update on", "Send update", "update", "Your update for the requester",
    2000, missing="Please write your update.",
)  # fmt: skip
_CANCEL = _OneQuestion(
    SUBMIT_CANCEL, "Cancel", "Cancel request",
    "reason", "Why (kept as an internal note; the requester is told it was cancelled)",
    1000,
)  # fmt: skip


def _ephemeral(text: str) -> Reply:
    """Said only to the specialist who acted."""
    return Reply(text=text, intent=Intent.SEARCH_REQUEST, ephemeral=True)


def _again(form: Form, errors: Mapping[str, str]) -> Outcome:
    """The form shown again with what is missing said beside each field."""
    return Outcome(form=replace(form, errors=tuple(errors.items())))


def _done(text: str) -> Outcome:
    return Outcome(reply=_ephemeral(text))
