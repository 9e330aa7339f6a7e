"""Purging the free text of old closed tickets while keeping their audit trail."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from bot.db.models import OutboxMessage, PostedMessage, UnansweredQuestion, WebMessage
from bot.db.session import Database
from bot.delivery.retention import Retention, RetentionPolicy
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


# ---- the hourly clean-up of everything else that holds words (bot/delivery/retention.py) ----

POLICY = RetentionPolicy(
    ticket_text=timedelta(days=365), messages=timedelta(days=30), unanswered=timedelta(days=90)
)


def _outbox_row(status: str, at: datetime) -> OutboxMessage:
    return OutboxMessage(
        platform="slack", channel_id="C1", thread_id="1.0", visible_to=None, card_key=None,
        payload='{"text": "Your request EVD-1 about [REDACTED] is with the library"}',
        status=status, attempts=1, next_attempt_at=at, created_at=at,
        sent_at=at if status == "sent" else None,
    )  # fmt: skip


def _web_message(at: datetime, text: str = "falls prevention") -> WebMessage:
    return WebMessage(
        conversation="web-1", thread=None, payload=f'{{"text": "{text}"}}', revision=1, at=at,
        updated_at=at, author="person",
    )  # fmt: skip


async def _count(database: Database, table: str) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608


async def test_delivered_and_abandoned_messages_past_the_limit_are_deleted(
    database: Database, clock: FakeClock
) -> None:
    old = clock.now
    async with database.transaction() as session:
        session.add_all([_outbox_row("sent", old), _outbox_row("failed", old)])
    clock.advance(days=31)
    async with database.transaction() as session:
        session.add(_outbox_row("sent", clock.now))

    purged = await Retention(database, POLICY, clock).purge()

    assert purged.outbox == 2
    assert await _count(database, "outbox") == 1


async def test_a_message_still_waiting_to_be_sent_is_never_deleted(
    database: Database, clock: FakeClock
) -> None:
    async with database.transaction() as session:
        session.add(_outbox_row("pending", clock.now))
    clock.advance(days=400)

    assert (await Retention(database, POLICY, clock).purge()).outbox == 0
    assert await _count(database, "outbox") == 1


async def test_web_chat_history_past_the_limit_is_deleted(
    database: Database, clock: FakeClock
) -> None:
    async with database.transaction() as session:
        session.add(_web_message(clock.now))
    clock.advance(days=31)
    async with database.transaction() as session:
        session.add(_web_message(clock.now, "a newer question"))

    assert (await Retention(database, POLICY, clock).purge()).web_messages == 1
    async with database.engine.connect() as connection:
        left = (await connection.scalars(text("SELECT payload FROM web_messages"))).all()
    assert left == ['{"text": "a newer question"}']


async def test_a_web_card_a_ticket_may_still_update_is_kept(
    database: Database, clock: FakeClock
) -> None:
    card = _web_message(clock.now, "EVD-1 card")
    async with database.transaction() as session:
        session.add(card)
        await session.flush()
        session.add(
            PostedMessage(card_key="ticket:EVD-1", platform="web", channel_id="web-1",
                          thread_id=None, message_id=str(card.id))
        )  # fmt: skip
    clock.advance(days=400)

    assert (await Retention(database, POLICY, clock).purge()).web_messages == 0
    assert await _count(database, "web_messages") == 1


async def test_unanswered_questions_not_asked_again_within_the_limit_are_deleted(
    database: Database, clock: FakeClock
) -> None:
    async with database.transaction() as session:
        for words, last_seen in (("parking permits", clock.now), ("canteen menu", clock.now)):
            session.add(
                UnansweredQuestion(text=words, normalized_text=words, count=1,
                                   first_seen=clock.now, last_seen=last_seen)
            )  # fmt: skip
    clock.advance(days=60)
    async with database.transaction() as session:
        await session.execute(
            text("UPDATE unanswered_questions SET last_seen = :now WHERE text = 'canteen menu'"),
            {"now": clock.now},
        )
    clock.advance(days=31)

    assert (await Retention(database, POLICY, clock).purge()).unanswered == 1
    async with database.engine.connect() as connection:
        left = (await connection.scalars(text("SELECT text FROM unanswered_questions"))).all()
    assert left == ["canteen menu"]


async def test_the_hourly_clean_up_also_purges_old_closed_tickets(
    database: Database,
    service: TicketService,
    clock: FakeClock,
    draft: Callable[..., TicketDraft],
) -> None:
    ref = (await service.create(draft(notes="ward 7 audit"))).reference
    await service.cancel(ref, SYSTEM)
    clock.advance(days=400)

    assert (await Retention(database, POLICY, clock).purge()).tickets == 1
    assert (await service.get(ref)).question == ""
