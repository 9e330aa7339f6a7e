"""Creating tickets: references, redaction before storage, de-duplication, due dates, routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

from sqlalchemy import text

from bot.db.session import Database
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.lifecycle import TicketStatus
from bot.desk.tickets.routing import RoutingService
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Origin, Purpose, TicketDraft

from .conftest import FakeClock

VALID_NHS_NUMBER = "9434765919"


async def test_references_are_prefix_year_and_five_digit_sequence(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    first = await service.create(draft())
    second = await service.create(draft())
    assert (first.reference, second.reference) == ("KLS-2026-00001", "KLS-2026-00002")


async def test_reference_sequence_restarts_each_year(
    service: TicketService, draft: Callable[..., TicketDraft], clock: FakeClock
) -> None:
    await service.create(draft())
    await service.create(draft())
    clock.advance(days=365)
    assert (await service.create(draft())).reference == "KLS-2027-00001"


async def test_references_use_the_configured_prefix(
    database: Database,
    scanner: PrivacyScanner,
    clock: FakeClock,
    draft: Callable[..., TicketDraft],
) -> None:
    service = TicketService(database, scanner, clock, prefix="LIB")
    assert (await service.create(draft())).reference == "LIB-2026-00001"


async def test_concurrent_creations_get_distinct_consecutive_references(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    tickets = await asyncio.gather(*(service.create(draft()) for _ in range(10)))
    assert sorted(t.reference for t in tickets) == [f"KLS-2026-{n:05d}" for n in range(1, 11)]


async def test_create_redacts_an_nhs_number_before_it_is_stored(
    service: TicketService, database: Database, draft: Callable[..., TicketDraft]
) -> None:
    ticket = await service.create(
        draft(
            question=f"Evidence for patient {VALID_NHS_NUMBER} with sepsis", notes=VALID_NHS_NUMBER
        )
    )
    async with database.engine.connect() as connection:
        raw = (
            await connection.execute(
                text("SELECT question, notes, privacy_redacted FROM tickets WHERE id = :id"),
                {"id": ticket.id},
            )
        ).one()
    assert VALID_NHS_NUMBER not in raw.question
    assert VALID_NHS_NUMBER not in raw.notes
    assert "[NHS number removed]" in raw.question
    assert bool(raw.privacy_redacted) is True


async def test_create_leaves_clean_text_alone_and_unflagged(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    ticket = await service.create(draft(population="adults over 65"))
    assert ticket.question == "Evidence on falls prevention in older inpatients"
    assert ticket.population == "adults over 65"
    assert ticket.privacy_redacted is False


async def test_same_source_event_twice_gives_one_ticket(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    first = await service.create(draft(), source_event_id="slack:Ev123")
    again = await service.create(draft(), source_event_id="slack:Ev123")
    assert again == first
    assert len(await service.list()) == 1


async def test_same_source_event_delivered_concurrently_gives_one_ticket(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    tickets = await asyncio.gather(
        *(service.create(draft(), source_event_id="slack:Ev999") for _ in range(5))
    )
    assert len({t.reference for t in tickets}) == 1
    assert len(await service.list()) == 1


async def test_new_ticket_is_new_unassigned_and_due_in_five_working_days(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    ticket = await service.create(draft())  # Monday 2 March 2026
    assert ticket.status is TicketStatus.NEW
    assert ticket.assignee_id is None
    assert ticket.due_date == date(2026, 3, 9)


async def test_requester_deadline_becomes_the_due_date(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    ticket = await service.create(draft(deadline=date(2026, 3, 4)))
    assert (ticket.deadline, ticket.due_date) == (date(2026, 3, 4), date(2026, 3, 4))


async def test_patient_care_requests_sort_first(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    await service.create(draft(purpose=Purpose.RESEARCH, deadline=date(2026, 3, 3)))
    urgent = await service.create(draft(purpose=Purpose.DIRECT_PATIENT_CARE))
    assert (await service.list())[0].reference == urgent.reference


async def test_ticket_from_a_routed_channel_records_its_route(
    service: TicketService, routing: RoutingService, draft: Callable[..., TicketDraft]
) -> None:
    route = await routing.add_route("slack", "C_CARDIO", "Cardiology")
    ticket = await service.create(draft(origin=Origin("slack", "C_CARDIO")))
    assert ticket.route_id == route.id


async def test_creation_writes_a_created_event_to_new(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    ticket = await service.create(draft())
    (event,) = await service.events(ticket.reference)
    assert (event.action, event.from_status, event.to_status) == ("created", None, TicketStatus.NEW)
    assert event.actor == "slack:U_REQ"
