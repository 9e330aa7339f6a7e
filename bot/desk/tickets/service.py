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

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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
        ref = self._ref(reference)
        now = self._clock()
        async with self._db.transaction() as session:
            await _active_specialist(session, specialist_id)
            done = await apply_transition(
                session,
                ref,
                Action.CLAIM,
                at=now,
                actor=Actor.specialist(specialist_id),
                values=lambda _row, _after: {"assignee_id": specialist_id, "claimed_at": now},
                details={"assignee_id": specialist_id},
            )
            return await ticket_view(session, done.ticket.id)

    async def unclaim(self, reference: str, actor: Actor = SYSTEM) -> TicketView:
        """Hand a claimed ticket back to the queue."""
        ref = self._ref(reference)
        now = self._clock()
        async with self._db.transaction() as session:
            done = await apply_transition(
                session,
                ref,
                Action.UNCLAIM,
                at=now,
                actor=actor,
                values=lambda _row, _after: {"assignee_id": None, "claimed_at": None},
            )
            return await ticket_view(session, done.ticket.id)

    async def reassign(self, reference: str, specialist_id: int, actor: Actor) -> TicketView:
        """Give an open ticket to another specialist (claiming it for them if it was new)."""
        ref = self._ref(reference)
        now = self._clock()
        async with self._db.transaction() as session:
            await _active_specialist(session, specialist_id)
            current = await load_ticket(session, ref)
            if current.assignee_id == specialist_id:
                return await ticket_view(session, current.id)

            def values(row: Ticket, _after: TicketStatus) -> dict[str, object]:
                claimed_at = now if row.claimed_at is None else row.claimed_at
                return {"assignee_id": specialist_id, "claimed_at": claimed_at}

            done = await apply_transition(
                session,
                ref,
                Action.REASSIGN,
                at=now,
                actor=actor,
                values=values,
                details={"from_assignee": current.assignee_id, "to_assignee": specialist_id},
            )
            return await ticket_view(session, done.ticket.id)

    # ------------------------------------------------------------------------------------
    # Work
    # ------------------------------------------------------------------------------------

    async def start(self, reference: str, actor: Actor = SYSTEM) -> TicketView:
        ref = self._ref(reference)
        async with self._db.transaction() as session:
            done = await apply_transition(session, ref, Action.START, at=self._clock(), actor=actor)
            return await ticket_view(session, done.ticket.id)

    async def ask_requester(
        self, reference: str, specialist_id: int, question_text: str
    ) -> TicketView:
        """Send the requester a question and wait for them; asking counts as starting work."""
        ref = self._ref(reference)
        now = self._clock()
        actor = Actor.specialist(specialist_id)
        redact = Redactor(self._scanner)
        text = redact(question_text)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            if ticket.status == TicketStatus.CLAIMED:
                await apply_transition(session, ref, Action.START, at=now, actor=actor)
            done = await apply_transition(session, ref, Action.ASK_REQUESTER, at=now, actor=actor)
            await add_message(
                session,
                done.ticket.id,
                at=now,
                direction=MessageDirection.TO_REQUESTER,
                author=actor,
                text=text,
                redacted=redact.found,
                event_action="message_to_requester",
            )
            return await ticket_view(session, done.ticket.id)

    async def requester_replied(self, reference: str, text: str) -> TicketView:
        """Store the requester's reply; a ticket waiting for them goes back to in progress."""
        ref = self._ref(reference)
        now = self._clock()
        redact = Redactor(self._scanner)
        redacted = redact(text)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            author = Actor.person(ticket.requester_platform, ticket.requester_user_id)
            status = TicketStatus(ticket.status)
            if status is TicketStatus.AWAITING_REQUESTER:
                await apply_transition(session, ref, Action.REQUESTER_REPLIED, at=now, actor=author)
            elif status not in OPEN_STATUSES:
                raise IllegalTransition(ref, status, Action.REQUESTER_REPLIED)
            await add_message(
                session,
                ticket.id,
                at=now,
                direction=MessageDirection.FROM_REQUESTER,
                author=author,
                text=redacted,
                redacted=redact.found,
                event_action="message_from_requester",
            )
            return await ticket_view(session, ticket.id)

    async def send_update(self, reference: str, specialist_id: int, text: str) -> TicketView:
        """A progress message to the requester (no reply awaited); a claimed ticket counts as
        started."""
        ref = self._ref(reference)
        now = self._clock()
        actor = Actor.specialist(specialist_id)
        redact = Redactor(self._scanner)
        redacted = redact(text)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            status = TicketStatus(ticket.status)
            if status is TicketStatus.CLAIMED:
                await apply_transition(session, ref, Action.START, at=now, actor=actor)
            elif status not in OPEN_STATUSES or status is TicketStatus.NEW:
                raise TicketRefused(f"{ref} is {status.label}; updates are for claimed work.")
            await add_message(
                session,
                ticket.id,
                at=now,
                direction=MessageDirection.TO_REQUESTER,
                author=actor,
                text=redacted,
                redacted=redact.found,
                event_action="update_to_requester",
            )
            return await ticket_view(session, ticket.id)

    async def add_note(self, reference: str, author: Actor, text: str) -> MessageView:
        """An internal note: for specialists only, never relayed to the requester."""
        ref = self._ref(reference)
        now = self._clock()
        redact = Redactor(self._scanner)
        redacted = redact(text)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            message = await add_message(
                session,
                ticket.id,
                at=now,
                direction=MessageDirection.INTERNAL_NOTE,
                author=author,
                text=redacted,
                redacted=redact.found,
                event_action="note_added",
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
        ref = self._ref(reference)
        now = self._clock()
        actor = Actor.specialist(specialist_id)
        redact = Redactor(self._scanner)
        text = redact(summary)
        safe_links = [redact(link) for link in links]
        attachment = redact.optional(attachment_ref)
        async with self._db.transaction() as session:
            done = await apply_transition(
                session,
                ref,
                Action.COMPLETE,
                at=now,
                actor=actor,
                values=lambda _row, _after: {"completed_at": now},
                details={"links": len(safe_links), "attachment": attachment is not None},
            )
            await add_message(
                session,
                done.ticket.id,
                at=now,
                direction=MessageDirection.DELIVERABLE,
                author=actor,
                text=text,
                redacted=redact.found,
                links=safe_links,
                attachment_ref=attachment,
            )
            return await ticket_view(session, done.ticket.id)

    async def close(self, reference: str, actor: Actor = SYSTEM) -> TicketView:
        ref = self._ref(reference)
        now = self._clock()
        async with self._db.transaction() as session:
            done = await apply_transition(
                session,
                ref,
                Action.CLOSE,
                at=now,
                actor=actor,
                values=lambda _row, _after: {"closed_at": now},
            )
            return await ticket_view(session, done.ticket.id)

    async def cancel(self, reference: str, actor: Actor, reason: str | None = None) -> TicketView:
        """Withdraw an open ticket; the reason, if given, is kept as an internal note."""
        ref = self._ref(reference)
        now = self._clock()
        redact = Redactor(self._scanner)
        note = redact.optional(reason.strip() if reason else None)
        async with self._db.transaction() as session:
            done = await apply_transition(
                session,
                ref,
                Action.CANCEL,
                at=now,
                actor=actor,
                values=lambda _row, _after: {"closed_at": now},
                details={"reason_given": bool(note)},
            )
            if note:
                await add_message(
                    session,
                    done.ticket.id,
                    at=now,
                    direction=MessageDirection.INTERNAL_NOTE,
                    author=actor,
                    text=note,
                    redacted=redact.found,
                )
            return await ticket_view(session, done.ticket.id)

    async def reopen(self, reference: str, actor: Actor) -> TicketView:
        """Bring back a finished ticket: to its assignee (in progress), or to the queue (new).

        Its escalations are forgotten, since the reopened work has clocks of its own.
        """
        ref = self._ref(reference)
        now = self._clock()
        async with self._db.transaction() as session:
            done = await apply_transition(
                session,
                ref,
                Action.REOPEN,
                at=now,
                actor=actor,
                values=lambda _row, _after: {"completed_at": None, "closed_at": None},
            )
            await session.execute(
                delete(EscalationRecord).where(EscalationRecord.ticket_id == done.ticket.id)
            )
            return await ticket_view(session, done.ticket.id)

    async def record_impact(self, reference: str, answers: ImpactAnswers) -> ImpactView:
        """Store one answer to the impact questions; only finished work can have had impact."""
        ref = self._ref(reference)
        now = self._clock()
        redact = Redactor(self._scanner)
        comment = redact.optional(answers.comment)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            status = TicketStatus(ticket.status)
            if status not in _IMPACT_STATUSES:
                raise TicketRefused(
                    f"{ref} is {status.label}; its impact can be recorded once it is completed."
                )
            impact = TicketImpact(
                ticket_id=ticket.id,
                helped=answers.helped,
                how_used=sorted(use.value for use in answers.how_used),
                time_saved_hours=answers.time_saved_hours,
                comment=comment,
                respondent=answers.respondent.key,
                at=now,
            )
            session.add(impact)
            await session.flush()
            if redact.found:
                await mark_redacted(session, ticket.id)
            write_event(
                session,
                ticket.id,
                at=now,
                actor=answers.respondent,
                action="impact_recorded",
                details={"impact_id": impact.id, "helped": answers.helped},
            )
            return ImpactView.of(impact)

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
        ref = self._ref(reference)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            return await ticket_view(session, ticket.id)

    async def events(self, reference: str) -> tuple[EventView, ...]:
        """The audit trail, oldest first."""
        ref = self._ref(reference)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            rows = await session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.id)
            )
            return tuple(EventView.of(row) for row in rows)

    async def messages(
        self, reference: str, *, include_internal: bool = True
    ) -> tuple[MessageView, ...]:
        """Messages on the ticket in the order they were stored."""
        ref = self._ref(reference)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            query = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
            if not include_internal:
                query = query.where(TicketMessage.direction != MessageDirection.INTERNAL_NOTE.value)
            rows = await session.scalars(query.order_by(TicketMessage.id))
            return tuple(MessageView.of(row) for row in rows)

    async def impacts(self, reference: str) -> tuple[ImpactView, ...]:
        ref = self._ref(reference)
        async with self._db.transaction() as session:
            ticket = await load_ticket(session, ref)
            rows = await session.scalars(
                select(TicketImpact)
                .where(TicketImpact.ticket_id == ticket.id)
                .order_by(TicketImpact.id)
            )
            return tuple(ImpactView.of(row) for row in rows)

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
