"""Row-level ticket operations inside a caller's transaction: load, change status, record.

The one rule everything here keeps: a status change is a single conditional UPDATE that names
the status (and assignee) it expects to replace, and succeeds only if the row still holds
them. Two specialists pressing "claim" together both read `new`, but only one UPDATE matches;
the other sees zero rows, re-reads, and gets the ordinary "already claimed by ..." refusal.
No locks are held between reading and writing, and the same code is correct on PostgreSQL
(row locks, READ COMMITTED) and SQLite (one writer at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Specialist, Ticket, TicketEvent, TicketMessage
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.errors import TicketNotFound, TicketRefused
from bot.desk.tickets.lifecycle import Action, IllegalTransition, TicketStatus, sources, target
from bot.desk.tickets.values import Actor, MessageDirection
from bot.desk.tickets.views import TicketView

__all__ = [
    "Redactor",
    "Transition",
    "add_message",
    "apply_transition",
    "load_ticket",
    "mark_redacted",
    "rowcount",
    "specialist_name",
    "ticket_view",
    "write_event",
]

# A change lost to a concurrent one is re-read and re-checked; more than this many losses in
# a row means something is hammering one ticket, and the person is asked to try again.
_ATTEMPTS: Final = 3


class Redactor:
    """Redacts text with the privacy scanner and remembers whether anything was removed."""

    def __init__(self, scanner: PrivacyScanner) -> None:
        self._scanner = scanner
        self.found = False

    def __call__(self, text: str) -> str:
        findings = self._scanner.scan(text)
        if not findings:
            return text
        self.found = True
        return self._scanner.redact(text, findings)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE/DELETE (`Session.execute` is typed as returning `Result`)."""
    return cast(CursorResult[Any], result).rowcount


async def load_ticket(session: AsyncSession, reference: str) -> Ticket:
    """The ticket's current row, re-read even if the session already holds an older copy."""
    ticket = await session.scalar(
        select(Ticket)
        .where(Ticket.reference == reference)
        .execution_options(populate_existing=True)
    )
    if ticket is None:
        raise TicketNotFound(reference)
    return ticket


async def specialist_name(session: AsyncSession, specialist_id: int | None) -> str | None:
    if specialist_id is None:
        return None
    return await session.scalar(
        select(Specialist.display_name).where(Specialist.id == specialist_id)
    )


async def ticket_view(session: AsyncSession, ticket_id: int) -> TicketView:
    row = (
        await session.execute(
            select(Ticket, Specialist.display_name)
            .outerjoin(Specialist, Ticket.assignee_id == Specialist.id)
            .where(Ticket.id == ticket_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    return TicketView.of(row[0], row[1])


def write_event(
    session: AsyncSession,
    ticket_id: int,
    *,
    at: datetime,
    actor: Actor,
    action: str,
    from_status: TicketStatus | None = None,
    to_status: TicketStatus | None = None,
    details: Mapping[str, object] | None = None,
) -> None:
    """Add an audit line. `details` must hold ids, counts and codes only, never free text."""
    session.add(
        TicketEvent(
            ticket_id=ticket_id,
            at=at,
            actor=actor.key,
            action=action,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value if to_status else None,
            details=dict(details or {}),
        )
    )


async def add_message(
    session: AsyncSession,
    ticket_id: int,
    *,
    at: datetime,
    direction: MessageDirection,
    author: Actor,
    text: str,
    redacted: bool,
    links: Sequence[str] = (),
    attachment_ref: str | None = None,
    event_action: str | None = None,
) -> TicketMessage:
    """Store an already-redacted message, and its own audit line if `event_action` is given.

    `redacted` says the scanner removed something, which flags the whole ticket, so that
    specialists know the requester's words were changed.
    """
    message = TicketMessage(
        ticket_id=ticket_id,
        direction=direction.value,
        author=author.key,
        text=text,
        links=list(links),
        attachment_ref=attachment_ref,
        at=at,
    )
    session.add(message)
    await session.flush()
    if redacted:
        await mark_redacted(session, ticket_id)
    if event_action is not None:
        write_event(
            session,
            ticket_id,
            at=at,
            actor=author,
            action=event_action,
            details={"message_id": message.id},
        )
    return message


async def mark_redacted(session: AsyncSession, ticket_id: int) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(privacy_redacted=True)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Transition:
    """What a successful status change did: the row before it, and the two statuses."""

    ticket: Ticket
    before: TicketStatus
    after: TicketStatus
    assignee_before: int | None


async def apply_transition(
    session: AsyncSession,
    reference: str,
    action: Action,
    *,
    at: datetime,
    actor: Actor,
    values: Callable[[Ticket, TicketStatus], Mapping[str, object]] | None = None,
    details: Mapping[str, object] | None = None,
) -> Transition:
    """Check and apply `action` with one conditional UPDATE, and write its audit line.

    `values` gives the other columns to set, from the row as read and the status the action
    leads to. Raises IllegalTransition when the status (as re-read after losing a race) does
    not allow the action.
    """
    for _ in range(_ATTEMPTS):
        ticket = await load_ticket(session, reference)
        before = TicketStatus(ticket.status)
        if before not in sources(action):
            name = await specialist_name(session, ticket.assignee_id)
            raise IllegalTransition(reference, before, action, assignee_name=name)
        after = target(action, before, assigned=ticket.assignee_id is not None)
        changes: dict[str, object] = {"status": after.value}
        if values is not None:
            changes.update(values(ticket, after))
        assignee_before = ticket.assignee_id
        same_assignee = (
            Ticket.assignee_id.is_(None)
            if assignee_before is None
            else Ticket.assignee_id == assignee_before
        )
        result = await session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.status == before.value, same_assignee)
            .values(changes)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            write_event(
                session,
                ticket.id,
                at=at,
                actor=actor,
                action=action.value,
                from_status=before,
                to_status=after,
                details=details,
            )
            return Transition(ticket, before, after, assignee_before)
    raise TicketRefused(f"{reference} is being changed by someone else; please try again.")
