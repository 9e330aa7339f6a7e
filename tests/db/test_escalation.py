"""Escalations are raised when due, to the right people, and only once, even with two workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from bot.db.session import Database
from bot.desk.tickets.escalation import Audience, EscalationKind, due_escalations
from bot.desk.tickets.routing import RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import SYSTEM, Origin, TicketDraft

AddSpecialists = Callable[..., Coroutine[Any, Any, list[SpecialistView]]]
# The ticket is made Monday 2 March 2026 10:00 (see conftest), due Monday 9 March.
MONDAY_5PM = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 7 working hours later
TUESDAY_10AM = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # 8 working hours later
FRIDAY_NOON = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # due next working day
TUESDAY_AFTER_DUE = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def test_unclaimed_is_raised_after_eight_working_hours_to_the_general_queue(
    service: TicketService, database: Database, draft: Callable[..., TicketDraft]
) -> None:
    ticket = await service.create(draft())
    assert await due_escalations(database, MONDAY_5PM) == []
    (escalation,) = await due_escalations(database, TUESDAY_10AM)
    assert (escalation.kind, escalation.reference, escalation.audience) == (
        EscalationKind.UNCLAIMED,
        ticket.reference,
        Audience.GENERAL_QUEUE,
    )


async def test_the_same_escalation_is_not_raised_twice(
    service: TicketService, database: Database, draft: Callable[..., TicketDraft]
) -> None:
    await service.create(draft())
    assert len(await due_escalations(database, TUESDAY_10AM)) == 1
    assert await due_escalations(database, TUESDAY_10AM) == []


async def test_two_workers_at_once_raise_each_escalation_once(
    service: TicketService, database: Database, draft: Callable[..., TicketDraft]
) -> None:
    for _ in range(3):
        await service.create(draft())
    first, second = await asyncio.gather(
        due_escalations(database, TUESDAY_10AM), due_escalations(database, TUESDAY_10AM)
    )
    raised = [(e.reference, e.kind) for e in first + second]
    assert len(raised) == 3
    assert len(set(raised)) == 3


async def test_escalation_is_recorded_in_the_audit_trail(
    service: TicketService, database: Database, draft: Callable[..., TicketDraft]
) -> None:
    ticket = await service.create(draft())
    await due_escalations(database, TUESDAY_10AM)
    last = (await service.events(ticket.reference))[-1]
    assert (last.action, last.actor, last.to_status) == ("escalated:unclaimed", "system", None)


async def test_claimed_ticket_due_tomorrow_is_raised_to_its_assignee(
    service: TicketService,
    database: Database,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
) -> None:
    (specialist,) = await add_specialists(1)
    ref = (await service.create(draft())).reference
    await service.claim(ref, specialist.id)
    (escalation,) = await due_escalations(database, FRIDAY_NOON)
    assert (escalation.kind, escalation.audience, escalation.specialist_ids) == (
        EscalationKind.DUE_TOMORROW,
        Audience.ASSIGNEE,
        (specialist.id,),
    )


async def test_overdue_ticket_is_raised_to_the_routes_lead(
    service: TicketService,
    routing: RoutingService,
    database: Database,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
) -> None:
    (worker,) = await add_specialists(1)
    (lead,) = await add_specialists(1, is_lead=True)
    route = await routing.add_route("slack", "C_CARDIO", "Cardiology")
    await routing.link(route.id, lead.id)
    ref = (await service.create(draft(origin=Origin("slack", "C_CARDIO")))).reference
    await service.claim(ref, worker.id)
    kinds = {e.kind: e for e in await due_escalations(database, TUESDAY_AFTER_DUE)}
    assert set(kinds) == {EscalationKind.OVERDUE}
    assert (
        kinds[EscalationKind.OVERDUE].audience,
        kinds[EscalationKind.OVERDUE].specialist_ids,
    ) == (
        Audience.LEAD,
        (lead.id,),
    )


async def test_finished_tickets_are_never_escalated(
    service: TicketService, database: Database, draft: Callable[..., TicketDraft]
) -> None:
    ref = (await service.create(draft())).reference
    await service.cancel(ref, SYSTEM)
    assert await due_escalations(database, TUESDAY_AFTER_DUE) == []
