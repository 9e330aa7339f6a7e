"""Purging the free text of old closed tickets while keeping their audit trail."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from bot.db.session import Database
from bot.desk.tickets.lifecycle import TicketStatus
from bot.desk.tickets.routing import SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import SYSTEM, Actor, TicketDraft

from .conftest import FakeClock

AddSpecialists = Callable[..., Coroutine[Any, Any, list[SpecialistView]]]


async def test_purge_blanks_text_of_old_closed_tickets_but_keeps_events(
    service: TicketService,
    database: Database,
    clock: FakeClock,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
) -> None:
    (specialist,) = await add_specialists(1)
    ref = (await service.create(draft(notes="ward 7 audit"))).reference
    await service.claim(ref, specialist.id)
    await service.add_note(ref, Actor.specialist(specialist.id), "searched Medline")
    await service.complete(ref, specialist.id, "Summary of evidence", ["https://x.org/1"])
    await service.close(ref)
    events_before = await service.events(ref)
    clock.advance(days=400)

    assert await service.purge_closed_text(timedelta(days=365)) == 1

    ticket = await service.get(ref)
    assert (ticket.question, ticket.notes, ticket.status) == ("", None, TicketStatus.CLOSED)
    assert ticket.text_purged_at == clock.now
    assert all(m.text == "" and m.links == () for m in await service.messages(ref))
    events = await service.events(ref)
    assert events[: len(events_before)] == events_before
    assert (events[-1].action, events[-1].actor) == ("text_purged", SYSTEM.key)
    async with database.engine.connect() as connection:
        leftovers = await connection.scalar(
            text("SELECT count(*) FROM ticket_messages WHERE text <> ''")
        )
    assert leftovers == 0


async def test_purge_leaves_recent_and_open_tickets_alone(
    service: TicketService, clock: FakeClock, draft: Callable[..., TicketDraft]
) -> None:
    still_open = (await service.create(draft())).reference
    recently_cancelled = (await service.create(draft())).reference
    clock.advance(days=400)
    await service.cancel(recently_cancelled, SYSTEM)
    assert await service.purge_closed_text(timedelta(days=365)) == 0
    assert (await service.get(still_open)).question != ""
    assert (await service.get(recently_cancelled)).question != ""


async def test_purge_does_not_purge_twice(
    service: TicketService, clock: FakeClock, draft: Callable[..., TicketDraft]
) -> None:
    ref = (await service.create(draft())).reference
    await service.cancel(ref, SYSTEM)
    clock.advance(days=400)
    assert await service.purge_closed_text(timedelta(days=365)) == 1
    assert await service.purge_closed_text(timedelta(days=365)) == 0
