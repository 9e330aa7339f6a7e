"""Frozen snapshots of tickets and their history, as the service hands them out.

Callers never see ORM objects: those belong to a session, can lazy-load (which async sessions
cannot) and can be changed by accident. A view is a plain value, safe to keep, compare and
pass to another task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

from bot.db.models import Ticket, TicketEvent, TicketImpact, TicketMessage
from bot.desk.tickets.lifecycle import OPEN_STATUSES, TicketStatus
from bot.desk.tickets.values import ImpactUse, MessageDirection, Origin, Person, Purpose

__all__ = ["EventView", "ImpactView", "MessageView", "TicketView"]


@dataclass(frozen=True)
class TicketView:
    id: int
    reference: str
    status: TicketStatus
    purpose: Purpose
    priority: int
    question: str
    deadline: date | None
    due_date: date
    date_range: str | None
    population: str | None
    study_types: str | None
    key_papers: str | None
    output_format: str | None
    notes: str | None
    requester: Person
    origin: Origin
    assignee_id: int | None
    assignee_name: str | None
    route_id: int | None
    created_at: datetime
    claimed_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    source_event_id: str | None
    privacy_redacted: bool
    text_purged_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @classmethod
    def of(cls, row: Ticket, assignee_name: str | None) -> TicketView:
        return cls(
            id=row.id,
            reference=row.reference,
            status=TicketStatus(row.status),
            purpose=Purpose(row.purpose),
            priority=row.priority,
            question=row.question,
            deadline=row.deadline,
            due_date=row.due_date,
            date_range=row.date_range,
            population=row.population,
            study_types=row.study_types,
            key_papers=row.key_papers,
            output_format=row.output_format,
            notes=row.notes,
            requester=Person(row.requester_platform, row.requester_user_id, row.requester_name),
            origin=Origin(row.origin_platform, row.origin_channel_id, row.origin_thread_id),
            assignee_id=row.assignee_id,
            assignee_name=assignee_name,
            route_id=row.route_id,
            created_at=row.created_at,
            claimed_at=row.claimed_at,
            completed_at=row.completed_at,
            closed_at=row.closed_at,
            source_event_id=row.source_event_id,
            privacy_redacted=row.privacy_redacted,
            text_purged_at=row.text_purged_at,
        )


@dataclass(frozen=True)
class EventView:
    """One audit line; `from_status`/`to_status` are None for events that change no status."""

    id: int
    at: datetime
    actor: str
    action: str
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    details: Mapping[str, object]

    @classmethod
    def of(cls, row: TicketEvent) -> EventView:
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            from_status=TicketStatus(row.from_status) if row.from_status else None,
            to_status=TicketStatus(row.to_status) if row.to_status else None,
            details=MappingProxyType(dict(row.details)),
        )


@dataclass(frozen=True)
class MessageView:
    id: int
    direction: MessageDirection
    author: str
    text: str
    links: tuple[str, ...]
    attachment_ref: str | None
    at: datetime

    @property
    def is_internal(self) -> bool:
        """Internal notes are for specialists only and must never be relayed to the requester."""
        return self.direction is MessageDirection.INTERNAL_NOTE

    @classmethod
    def of(cls, row: TicketMessage) -> MessageView:
        return cls(
            id=row.id,
            direction=MessageDirection(row.direction),
            author=row.author,
            text=row.text,
            links=tuple(row.links),
            attachment_ref=row.attachment_ref,
            at=row.at,
        )


@dataclass(frozen=True)
class ImpactView:
    id: int
    respondent: str
    helped: bool
    how_used: frozenset[ImpactUse]
    time_saved_hours: float | None
    comment: str | None
    at: datetime

    @classmethod
    def of(cls, row: TicketImpact) -> ImpactView:
        return cls(
            id=row.id,
            respondent=row.respondent,
            helped=row.helped,
            how_used=frozenset(ImpactUse(use) for use in row.how_used),
            time_saved_hours=row.time_saved_hours,
            comment=row.comment,
            at=row.at,
        )
