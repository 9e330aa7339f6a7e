"""Escalations: requests left unclaimed, due tomorrow, or overdue, each raised exactly once.

A scheduler calls `due_escalations` every few minutes (possibly from more than one worker);
the caller sends the notifications it returns. "Exactly once" is kept by the database, not by
the caller: each escalation is an INSERT into `escalations`, whose (ticket_id, kind) key is
unique, with ON CONFLICT DO NOTHING. Only the worker whose insert lands reports it and writes
the `escalated:<kind>` audit line, so two workers running together cannot both notify.
Candidates are inserted in ticket order, so concurrent workers on PostgreSQL wait for each
other rather than deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import EscalationRecord, Specialist, Ticket, route_specialists
from bot.db.session import Database
from bot.desk.tickets.calendar import (
    OFFICE_HOURS,
    WorkingHours,
    add_working_days,
    local_date,
    working_hours_between,
)
from bot.desk.tickets.lifecycle import OPEN_STATUSES, TicketStatus
from bot.desk.tickets.store import write_event
from bot.desk.tickets.values import SYSTEM

__all__ = ["Audience", "Escalation", "EscalationKind", "due_escalations"]


class EscalationKind(StrEnum):
    UNCLAIMED = "unclaimed"
    DUE_TOMORROW = "due_tomorrow"
    OVERDUE = "overdue"


class Audience(StrEnum):
    """Who should hear about it: the queue's channel, the assignee, or the team leads."""

    GENERAL_QUEUE = "general_queue"
    ASSIGNEE = "assignee"
    LEAD = "lead"


@dataclass(frozen=True)
class Escalation:
    """One notification to send.

    `specialist_ids` names the people for ASSIGNEE and LEAD; for GENERAL_QUEUE it is empty and
    `route_id` says whose notification channel, if any, to post in.
    """

    kind: EscalationKind
    reference: str
    ticket_id: int
    audience: Audience
    specialist_ids: tuple[int, ...]
    route_id: int | None
    due_date: date


@dataclass(frozen=True)
class _Leads:
    by_route: dict[int, tuple[int, ...]]
    everyone: tuple[int, ...]

    def for_route(self, route_id: int | None) -> tuple[int, ...]:
        routed = self.by_route.get(route_id, ()) if route_id is not None else ()
        return routed or self.everyone


async def due_escalations(
    db: Database,
    now: datetime,
    unclaimed_after_working_hours: float = 8,
    *,
    hours: WorkingHours = OFFICE_HOURS,
) -> list[Escalation]:
    """Record and return the escalations that have become due and were not raised before.

    unclaimed: still new after `unclaimed_after_working_hours` working hours -> general queue.
    due_tomorrow: open and due by the end of the next working day -> the assignee (or queue).
    overdue: open and past its due date -> the leads (the route's, else all; or the assignee).
    """
    today = local_date(now, hours.zone)
    next_working_day = add_working_days(today, 1, hours.weekdays)
    is_open = Ticket.status.in_([status.value for status in OPEN_STATUSES])
    async with db.transaction() as session:
        tickets = (await session.scalars(select(Ticket).where(is_open).order_by(Ticket.id))).all()
        # Only an optimisation: the conditional insert in _record is what prevents repeats.
        already = set(
            (
                await session.execute(
                    select(EscalationRecord.ticket_id, EscalationRecord.kind)
                    .join(Ticket, Ticket.id == EscalationRecord.ticket_id)
                    .where(is_open)
                )
            ).all()
        )
        leads = await _leads(session)
        raised: list[Escalation] = []
        for ticket in tickets:
            for kind in _kinds(
                ticket, now, today, next_working_day, unclaimed_after_working_hours, hours
            ):
                if (ticket.id, kind.value) in already:
                    continue
                escalation = _address(ticket, kind, leads)
                if await _record(session, db.dialect, escalation, now):
                    raised.append(escalation)
        return raised


def _kinds(
    ticket: Ticket,
    now: datetime,
    today: date,
    next_working_day: date,
    unclaimed_after: float,
    hours: WorkingHours,
) -> list[EscalationKind]:
    kinds: list[EscalationKind] = []
    if (
        ticket.status == TicketStatus.NEW
        and working_hours_between(ticket.created_at, now, hours) >= unclaimed_after
    ):
        kinds.append(EscalationKind.UNCLAIMED)
    if ticket.due_date < today:
        kinds.append(EscalationKind.OVERDUE)
    elif ticket.due_date <= next_working_day:
        kinds.append(EscalationKind.DUE_TOMORROW)
    return kinds


def _address(ticket: Ticket, kind: EscalationKind, leads: _Leads) -> Escalation:
    audience = Audience.GENERAL_QUEUE
    people: tuple[int, ...] = ()
    assignee: tuple[int, ...] = (ticket.assignee_id,) if ticket.assignee_id is not None else ()
    if kind is EscalationKind.DUE_TOMORROW and assignee:
        audience, people = Audience.ASSIGNEE, assignee
    elif kind is EscalationKind.OVERDUE:
        route_leads = leads.for_route(ticket.route_id)
        if route_leads:
            audience, people = Audience.LEAD, route_leads
        elif assignee:
            audience, people = Audience.ASSIGNEE, assignee
    return Escalation(
        kind=kind,
        reference=ticket.reference,
        ticket_id=ticket.id,
        audience=audience,
        specialist_ids=people,
        route_id=ticket.route_id,
        due_date=ticket.due_date,
    )


async def _leads(session: AsyncSession) -> _Leads:
    active_leads = select(Specialist.id).where(
        Specialist.is_lead.is_(True), Specialist.is_active.is_(True)
    )
    everyone = tuple((await session.scalars(active_leads.order_by(Specialist.id))).all())
    by_route: defaultdict[int, list[int]] = defaultdict(list)
    rows = await session.execute(
        select(route_specialists.c.route_id, route_specialists.c.specialist_id)
        .where(route_specialists.c.specialist_id.in_(active_leads))
        .order_by(route_specialists.c.route_id, route_specialists.c.specialist_id)
    )
    for route_id, specialist_id in rows:
        by_route[route_id].append(specialist_id)
    return _Leads({route: tuple(ids) for route, ids in by_route.items()}, everyone)


async def _record(
    session: AsyncSession, dialect: str, escalation: Escalation, now: datetime
) -> bool:
    """Claim this escalation for this worker; False if it was raised before (by anyone)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = await session.scalar(
        insert(EscalationRecord)
        .values(ticket_id=escalation.ticket_id, kind=escalation.kind.value, at=now)
        .on_conflict_do_nothing(index_elements=["ticket_id", "kind"])
        .returning(EscalationRecord.id)
    )
    if inserted is None:
        return False
    write_event(
        session,
        escalation.ticket_id,
        at=now,
        actor=SYSTEM,
        action=f"escalated:{escalation.kind.value}",
        details={
            "audience": escalation.audience.value,
            "specialist_ids": list(escalation.specialist_ids),
        },
    )
    return True
