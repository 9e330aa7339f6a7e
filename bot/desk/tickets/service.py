"""The ticket service: every change to a request for evidence goes through here.

Platform-neutral: adapters and handlers call it with ids and text, and get frozen views back.
Each method is one transaction. Every status change is a conditional UPDATE (see
`bot.desk.tickets.store`) and writes an audit line naming the status before and after.

Privacy: every piece of free text passed in (the question, scope fields, messages, notes,
summaries, links, comments) is run through the privacy scanner and stored redacted. Raw text
with an identifier in it never reaches the database, and the ticket is flagged
`privacy_redacted` so specialists know something was removed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock, utc_now
from bot.config import Settings
from bot.db.models import (
    EscalationRecord,
    Route,
    Specialist,
    Ticket,
    TicketEvent,
    TicketImpact,
    TicketMessage,
)
from bot.db.session import Database
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.calendar import due_date_for, local_date
from bot.desk.tickets.errors import SpecialistNotFound, TicketRefused
from bot.desk.tickets.lifecycle import OPEN_STATUSES, Action, IllegalTransition, TicketStatus
from bot.desk.tickets.references import allocate_reference, parse_reference
from bot.desk.tickets.retention import purge_text_closed_before
from bot.desk.tickets.store import (
    Redactor,
    add_message,
    apply_transition,
    load_ticket,
    mark_redacted,
    ticket_view,
    write_event,
)
from bot.desk.tickets.values import (
    SYSTEM,
    Actor,
    ImpactAnswers,
    MessageDirection,
    TicketDraft,
    priority_for,
)
from bot.desk.tickets.views import EventView, ImpactView, MessageView, TicketView
from bot.errors import UserFacingError

__all__ = ["TicketService"]

_IMPACT_STATUSES: Final = frozenset({TicketStatus.COMPLETED, TicketStatus.CLOSED})
#: The other columns a status change sets: fixed, or worked out from the row as read.
_Values = Mapping[str, object] | Callable[[Ticket, TicketStatus], Mapping[str, object]] | None
#: What a ticket owns, in the order it was stored.
_Owned = TypeVar("_Owned", TicketEvent, TicketMessage, TicketImpact)


@dataclass(frozen=True)
class _Step:
    """One change to one ticket: its transaction, its moment, its redactor. Every status
    change, message and audit line of the step carries the same time, and the ticket is
    flagged redacted if anything the step stored was."""

    session: AsyncSession
    reference: str
    now: datetime
    redact: Redactor

    async def move(
        self,
        action: Action,
        actor: Actor,
        *,
        values: _Values = None,
        details: Mapping[str, object] | None = None,
    ) -> Ticket:
        """Apply `action` (a conditional UPDATE and its audit line); the row as it was read."""
        fixed = values
        done = await apply_transition(
            self.session,
            self.reference,
            action,
            at=self.now,
            actor=actor,
            values=(lambda _row, _after: fixed) if isinstance(fixed, Mapping) else fixed,
            details=details,
        )
        return done.ticket

    async def message(
        self,
        ticket: Ticket,
        direction: MessageDirection,
        author: Actor,
        text: str,
        *,
        event: str | None = None,
        links: Sequence[str] = (),
        attachment_ref: str | None = None,
    ) -> TicketMessage:
        """Store text this step's redactor has already been through."""
        return await add_message(
            self.session,
            ticket.id,
            at=self.now,
            direction=direction,
            author=author,
            text=text,
            redacted=self.redact.found,
            links=links,
            attachment_ref=attachment_ref,
            event_action=event,
        )

    async def view(self, ticket: Ticket) -> TicketView:
        return await ticket_view(self.session, ticket.id)


class TicketService:
    """Create, move and read tickets. Safe to share between tasks; holds no per-call state."""

    def __init__(
        self,
        db: Database,
        scanner: PrivacyScanner,
        clock: Clock = utc_now,
        *,
        prefix: str = "KLS",
        turnaround_working_days: int = 5,
    ) -> None:
        self._db = db
        self._scanner = scanner
        self._clock = clock
        self._prefix = prefix
        self._turnaround = turnaround_working_days

    @classmethod
    def from_settings(
        cls, db: Database, settings: Settings, clock: Clock = utc_now
    ) -> TicketService:
        return cls(
            db,
            PrivacyScanner(settings.hospital_number_pattern),
            clock,
            prefix=settings.ticket_prefix,
            turnaround_working_days=settings.default_turnaround_working_days,
        )

    @property
    def database(self) -> Database:
        """The database the tickets live in (for readers of what was posted about them)."""
        return self._db

    # ------------------------------------------------------------------------------------
    # Intake
    # ------------------------------------------------------------------------------------

    async def create(self, draft: TicketDraft, source_event_id: str | None = None) -> TicketView:
        """Store a new request, redacted; a retried platform event returns the first ticket."""
        if not draft.question.strip():
            raise UserFacingError("Please say what you would like us to search for.")
        if source_event_id is not None:
            existing = await self._by_source_event(source_event_id)
            if existing is not None:
                return existing
        try:
            return await self._insert(draft, source_event_id)
        except IntegrityError:
            # Two deliveries of one event raced past the check above; the other one won.
            existing = await self._by_source_event(source_event_id) if source_event_id else None
            if existing is None:
                raise
            return existing

    async def _insert(self, draft: TicketDraft, source_event_id: str | None) -> TicketView:
        now = self._clock()
        redact = Redactor(self._scanner)
        row = Ticket(
            requester_platform=draft.requester.platform,
            requester_user_id=draft.requester.user_id,
            requester_name=self._scanner.redact(draft.requester.display_name or "") or None,
            origin_platform=draft.origin.platform,
            origin_channel_id=draft.origin.channel_id,
            origin_thread_id=draft.origin.thread_id,
            question=redact(draft.question),
            purpose=draft.purpose.value,
            deadline=draft.deadline,
            due_date=due_date_for(now, draft.deadline, self._turnaround),
            priority=priority_for(draft.purpose),
            date_range=redact.optional(draft.date_range),
            population=redact.optional(draft.population),
            study_types=redact.optional(draft.study_types),
            key_papers=redact.optional(draft.key_papers),
            output_format=redact.optional(draft.output_format),
            notes=redact.optional(draft.notes),
            status=TicketStatus.NEW.value,
            created_at=now,
            source_event_id=source_event_id,
        )
        row.privacy_redacted = redact.found
        async with self._db.transaction() as session:
            row.route_id = await session.scalar(
                select(Route.id).where(
                    Route.platform == draft.origin.platform,
                    Route.channel_id == draft.origin.channel_id,
                )
            )
            row.reference = await allocate_reference(session, self._prefix, local_date(now).year)
            session.add(row)
            await session.flush()
            write_event(
                session,
                row.id,
                at=now,
                actor=draft.requester.actor,
                action="created",
                to_status=TicketStatus.NEW,
                details={
                    "purpose": draft.purpose.value,
                    "route_id": row.route_id,
                    "privacy_redacted": redact.found,
                },
            )
            return await ticket_view(session, row.id)

    async def _by_source_event(self, source_event_id: str) -> TicketView | None:
        async with self._db.transaction() as session:
            ticket_id = await session.scalar(
                select(Ticket.id).where(Ticket.source_event_id == source_event_id)
            )
            return None if ticket_id is None else await ticket_view(session, ticket_id)

    # ------------------------------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------------------------------

    async def claim(self, reference: str, specialist_id: int) -> TicketView:
        """Take a new ticket. Of several simultaneous claims exactly one wins."""
        async with self._step(reference) as step:
            await _active_specialist(step.session, specialist_id)
            row = await step.move(
                Action.CLAIM,
                Actor.specialist(specialist_id),
                values={"assignee_id": specialist_id, "claimed_at": step.now},
                details={"assignee_id": specialist_id},
            )
            return await step.view(row)

    async def unclaim(self, reference: str, actor: Actor = SYSTEM) -> TicketView:
        """Hand a claimed ticket back to the queue."""
        return await self._move(
            reference, Action.UNCLAIM, actor, values={"assignee_id": None, "claimed_at": None}
        )

    async def reassign(self, reference: str, specialist_id: int, actor: Actor) -> TicketView:
        """Give an open ticket to another specialist (claiming it for them if it was new)."""
        async with self._step(reference) as step:
            await _active_specialist(step.session, specialist_id)
            current = await load_ticket(step.session, step.reference)
            if current.assignee_id == specialist_id:
                return await step.view(current)

            def values(row: Ticket, _after: TicketStatus) -> dict[str, object]:
                claimed_at = step.now if row.claimed_at is None else row.claimed_at
                return {"assignee_id": specialist_id, "claimed_at": claimed_at}

            row = await step.move(
                Action.REASSIGN,
                actor,
                values=values,
                details={"from_assignee": current.assignee_id, "to_assignee": specialist_id},
            )
            return await step.view(row)

    # ------------------------------------------------------------------------------------
    # Work
    # ------------------------------------------------------------------------------------

    async def start(self, reference: str, actor: Actor = SYSTEM) -> TicketView:
        return await self._move(reference, Action.START, actor)

    async def ask_requester(
        self, reference: str, specialist_id: int, question_text: str
    ) -> TicketView:
        """Send the requester a question and wait for them; asking counts as starting work."""
        actor = Actor.specialist(specialist_id)
        async with self._step(reference) as step:
            text = step.redact(question_text)
            ticket = await load_ticket(step.session, step.reference)
            if ticket.status == TicketStatus.CLAIMED:
                await step.move(Action.START, actor)
            row = await step.move(Action.ASK_REQUESTER, actor)
            await step.message(
                row, MessageDirection.TO_REQUESTER, actor, text, event="message_to_requester"
            )
            return await step.view(row)

    async def requester_replied(self, reference: str, text: str) -> TicketView:
        """Store the requester's reply; a ticket waiting for them goes back to in progress."""
        async with self._step(reference) as step:
            redacted = step.redact(text)
            ticket = await load_ticket(step.session, step.reference)
            author = Actor.person(ticket.requester_platform, ticket.requester_user_id)
            status = TicketStatus(ticket.status)
            if status is TicketStatus.AWAITING_REQUESTER:
                await step.move(Action.REQUESTER_REPLIED, author)
            elif status not in OPEN_STATUSES:
                raise IllegalTransition(step.reference, status, Action.REQUESTER_REPLIED)
            await step.message(
                ticket,
                MessageDirection.FROM_REQUESTER,
                author,
                redacted,
                event="message_from_requester",
            )
            return await step.view(ticket)

    async def send_update(self, reference: str, specialist_id: int, text: str) -> TicketView:
        """A progress message to the requester (no reply awaited); a claimed ticket counts as
        started."""
        actor = Actor.specialist(specialist_id)
        async with self._step(reference) as step:
            redacted = step.redact(text)
            ticket = await load_ticket(step.session, step.reference)
            status = TicketStatus(ticket.status)
            if status is TicketStatus.CLAIMED:
                await step.move(Action.START, actor)
            elif status not in OPEN_STATUSES or status is TicketStatus.NEW:
                raise TicketRefused(
                    f"{step.reference} is {status.label}; updates are for claimed work."
                )
            await step.message(
                ticket, MessageDirection.TO_REQUESTER, actor, redacted, event="update_to_requester"
            )
            return await step.view(ticket)

    async def add_note(self, reference: str, author: Actor, text: str) -> MessageView:
        """An internal note: for specialists only, never relayed to the requester."""
        async with self._step(reference) as step:
            redacted = step.redact(text)
            ticket = await load_ticket(step.session, step.reference)
            message = await step.message(
                ticket, MessageDirection.INTERNAL_NOTE, author, redacted, event="note_added"
            )
            return MessageView.of(message)

    async def complete(
        self,
        reference: str,
        specialist_id: int,
        summary: str,
        links: Sequence[str],
        attachment_ref: str | None = None,
    ) -> TicketView:
        """Finish the work and store the deliverable (summary, links, attachment) on the ticket."""
        actor = Actor.specialist(specialist_id)
        async with self._step(reference) as step:
            text = step.redact(summary)
            safe_links = [step.redact(link) for link in links]
            attachment = step.redact.optional(attachment_ref)
            row = await step.move(
                Action.COMPLETE,
                actor,
                values={"completed_at": step.now},
                details={"links": len(safe_links), "attachment": attachment is not None},
            )
            await step.message(
                row,
                MessageDirection.DELIVERABLE,
                actor,
                text,
                links=safe_links,
                attachment_ref=attachment,
            )
            return await step.view(row)

    async def close(self, reference: str, actor: Actor = SYSTEM) -> TicketView:
        async with self._step(reference) as step:
            row = await step.move(Action.CLOSE, actor, values={"closed_at": step.now})
            return await step.view(row)

    async def cancel(self, reference: str, actor: Actor, reason: str | None = None) -> TicketView:
        """Withdraw an open ticket; the reason, if given, is kept as an internal note."""
        async with self._step(reference) as step:
            note = step.redact.optional(reason.strip() if reason else None)
            row = await step.move(
                Action.CANCEL,
                actor,
                values={"closed_at": step.now},
                details={"reason_given": bool(note)},
            )
            if note:
                await step.message(row, MessageDirection.INTERNAL_NOTE, actor, note)
            return await step.view(row)

    async def reopen(self, reference: str, actor: Actor) -> TicketView:
        """Bring back a finished ticket: to its assignee (in progress), or to the queue (new).

        Its escalations are forgotten, since the reopened work has clocks of its own.
        """
        async with self._step(reference) as step:
            row = await step.move(
                Action.REOPEN, actor, values={"completed_at": None, "closed_at": None}
            )
            await step.session.execute(
                delete(EscalationRecord).where(EscalationRecord.ticket_id == row.id)
            )
            return await step.view(row)

    async def record_impact(self, reference: str, answers: ImpactAnswers) -> ImpactView:
        """Store one answer to the impact questions; only finished work can have had impact."""
        async with self._step(reference) as step:
            comment = step.redact.optional(answers.comment)
            ticket = await load_ticket(step.session, step.reference)
            status = TicketStatus(ticket.status)
            if status not in _IMPACT_STATUSES:
                raise TicketRefused(
                    f"{step.reference} is {status.label}; its impact can be recorded once it is "
                    "completed."
                )
            impact = TicketImpact(
                ticket_id=ticket.id,
                helped=answers.helped,
                how_used=sorted(use.value for use in answers.how_used),
                time_saved_hours=answers.time_saved_hours,
                comment=comment,
                respondent=answers.respondent.key,
                at=step.now,
            )
            step.session.add(impact)
            await step.session.flush()
            if step.redact.found:
                await mark_redacted(step.session, ticket.id)
            write_event(
                step.session,
                ticket.id,
                at=step.now,
                actor=answers.respondent,
                action="impact_recorded",
                details={"impact_id": impact.id, "helped": answers.helped},
            )
            return ImpactView.of(impact)

    # ------------------------------------------------------------------------------------
    # One step on one ticket
    # ------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _step(self, reference: str) -> AsyncIterator[_Step]:
        """One transaction on one ticket, at one moment, with one redactor: every change
        above is made inside one of these."""
        ref = self._ref(reference)  # a malformed reference is refused before any transaction
        now = self._clock()
        async with self._db.transaction() as session:
            yield _Step(session, ref, now, Redactor(self._scanner))

    async def _move(
        self, reference: str, action: Action, actor: Actor, *, values: _Values = None
    ) -> TicketView:
        """A change of status and nothing else."""
        async with self._step(reference) as step:
            return await step.view(await step.move(action, actor, values=values))

    # ------------------------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------------------------

    async def purge_closed_text(self, older_than: timedelta) -> int:
        """Blank the free text of tickets closed or cancelled before `older_than` ago.

        The question, scope, messages and impact comments go; statuses, dates, the audit trail
        and impact answers stay, so reports still add up. Returns how many tickets were purged.
        """
        now = self._clock()
        async with self._db.transaction() as session:
            return await purge_text_closed_before(session, now - older_than, now)

    # ------------------------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------------------------

    async def get(self, reference: str) -> TicketView:
        async with self._step(reference) as step:
            return await step.view(await load_ticket(step.session, step.reference))

    async def events(self, reference: str) -> tuple[EventView, ...]:
        """The audit trail, oldest first."""
        rows = await self._rows_of(reference, TicketEvent)
        return tuple(EventView.of(row) for row in rows)

    async def messages(
        self, reference: str, *, include_internal: bool = True
    ) -> tuple[MessageView, ...]:
        """Messages on the ticket in the order they were stored."""
        also = () if include_internal else (
            TicketMessage.direction != MessageDirection.INTERNAL_NOTE.value,
        )  # fmt: skip
        rows = await self._rows_of(reference, TicketMessage, *also)
        return tuple(MessageView.of(row) for row in rows)

    async def impacts(self, reference: str) -> tuple[ImpactView, ...]:
        rows = await self._rows_of(reference, TicketImpact)
        return tuple(ImpactView.of(row) for row in rows)

    async def _rows_of(
        self, reference: str, model: type[_Owned], *where: ColumnElement[bool]
    ) -> Sequence[_Owned]:
        """A ticket's events, messages or impact answers, in the order they were stored."""
        async with self._step(reference) as step:
            ticket = await load_ticket(step.session, step.reference)
            rows = await step.session.scalars(
                select(model).where(model.ticket_id == ticket.id, *where).order_by(model.id)
            )
            return rows.all()

    async def count_by_status(self) -> dict[str, int]:
        """How many tickets are in each status (for metrics)."""
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(Ticket.status, func.count()).group_by(Ticket.status)
            )
            return {str(status): int(count) for status, count in rows}

    # Defined last: inside the class body its name would shadow the builtin `list` for mypy.
    async def list(
        self,
        status: TicketStatus | None = None,
        assignee: int | None = None,
        limit: int = 50,
    ) -> tuple[TicketView, ...]:
        """Tickets in working order: patient care first, then by due date, then oldest."""
        query = select(Ticket, Specialist.display_name).outerjoin(
            Specialist, Ticket.assignee_id == Specialist.id
        )
        if status is not None:
            query = query.where(Ticket.status == status.value)
        if assignee is not None:
            query = query.where(Ticket.assignee_id == assignee)
        query = query.order_by(
            Ticket.priority, Ticket.due_date, Ticket.created_at, Ticket.id
        ).limit(limit)
        async with self._db.transaction() as session:
            rows = await session.execute(query)
            return tuple(TicketView.of(ticket, name) for ticket, name in rows)

    # ------------------------------------------------------------------------------------

    def _ref(self, reference: str) -> str:
        return parse_reference(reference, self._prefix)


async def _active_specialist(session: AsyncSession, specialist_id: int) -> Specialist:
    specialist = await session.get(Specialist, specialist_id)
    if specialist is None:
        raise SpecialistNotFound(specialist_id)
    if not specialist.is_active:
        raise SpecialistNotFound(specialist_id, inactive=True)
    return specialist
