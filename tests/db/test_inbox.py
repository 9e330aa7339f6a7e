"""The core inbox and the unit of work, on SQLite and PostgreSQL: an event is answered once,
and a state change is never committed without the messages it causes (or the reverse).

A crash at the worst moment is made real at the database's wire: a SQLAlchemy
`before_cursor_execute` hook raises when the statement that writes the outbox is about to be
sent, exactly as a process dying there would leave the transaction uncommitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.db.models import InboundEvent as JournalRow
from bot.db.models import OutboxMessage, Ticket
from bot.db.session import Database
from bot.delivery.backpressure import AnswerGate
from bot.delivery.inbox import InboundEvent, Inbox
from bot.delivery.journal import InboundJournal
from bot.delivery.outbox import Destination
from bot.desk.privacy import PrivacyScanner
from bot.messages import IncomingMessage, Platform, UserAction
from handlers.actions import CLAIM
from handlers.desk import GENERIC_APOLOGY, EvidenceDesk
from tests.db.conftest import DRAFT, QUEUE, WARD, FakeClock

THREAD = "1700000000.000100"


class CrashBeforeOutboxWrite(Exception):
    """Stands for the process dying just before the outbox row reaches the database."""


@contextmanager
def on_sending(database: Database, starts: str, then: Callable[[str], None]) -> Iterator[None]:
    """`then(statement)` as each statement starting with `starts` is about to be sent."""

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(starts):
            then(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def crash_when_the_outbox_is_written(database: Database) -> Iterator[None]:
    def crash(statement: str) -> None:
        raise CrashBeforeOutboxWrite(statement[:40])

    with on_sending(database, "INSERT INTO OUTBOX", crash):
        yield


@pytest.fixture
def inbox(database: Database, clock: FakeClock, desk: EvidenceDesk) -> Inbox:
    journal = InboundJournal(database, PrivacyScanner(), clock, lease=timedelta(seconds=60))
    return Inbox(database, journal, desk.requests.outbox, desk, AnswerGate(4))


def question(event_id: str, text: str = "forgot my athens password") -> InboundEvent:
    message = IncomingMessage(Platform.SLACK, "U_REQ", text, conversation_id=WARD, thread_id=THREAD)
    return InboundEvent("slack", event_id, Destination("slack", WARD, THREAD), message)


async def accepted(inbox: Inbox, event_id: str) -> int:
    """The journal id of a new event, acknowledged and not yet answered."""
    journal_id = await inbox.accept(question(event_id))
    assert journal_id is not None
    return journal_id


async def accept_all(inbox: Inbox, events: Sequence[InboundEvent]) -> list[int | None]:
    return [await inbox.accept(e) for e in events]


async def answer_together(
    inbox: Inbox, events: Sequence[InboundEvent], ids: Sequence[int | None]
) -> None:
    """Answer the accepted events at once, as a burst is."""
    await asyncio.gather(*(inbox.answer(i, e) for i, e in zip(ids, events, strict=True) if i))


def claim(reference: str) -> UserAction:
    """The specialist's Claim button on the ticket's card."""
    return UserAction(Platform.SLACK, "U_SPEC", CLAIM, value=reference)


async def status_of(database: Database, ticket_id: int) -> str | None:
    async with database.read() as session:
        return await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))


async def outbox_rows(database: Database) -> list[OutboxMessage]:
    async with database.read() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def unfinished(database: Database) -> int:
    async with database.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(JournalRow).where(JournalRow.done_at.is_(None))
        )
    return int(count or 0)


async def test_a_message_is_answered_into_its_thread_and_marked_done(
    database: Database, inbox: Inbox
) -> None:
    await inbox.answer(await accepted(inbox, "Ev1"), question("Ev1"))
    (row,) = await outbox_rows(database)
    assert (row.platform, row.channel_id, row.thread_id) == ("slack", WARD, THREAD)
    assert "OpenAthens" in row.payload
    assert await unfinished(database) == 0


async def test_a_redelivered_event_is_not_accepted_twice(inbox: Inbox) -> None:
    assert await inbox.accept(question("Ev2")) is not None
    assert await inbox.accept(question("Ev2")) is None


async def test_an_unfinished_event_of_a_dead_process_is_replayed_once_from_the_journal(
    database: Database, inbox: Inbox, clock: FakeClock
) -> None:
    await accepted(inbox, "Ev4")  # ... and then the process died
    clock.advance(seconds=61)  # its lease ran out
    assert await inbox.replay_stale() == 1
    assert await inbox.replay_stale() == 0
    (row,) = await outbox_rows(database)
    assert row.thread_id == THREAD and "OpenAthens" in row.payload
    assert await unfinished(database) == 0


async def test_an_answer_that_fails_in_the_database_is_neither_queued_nor_finished(
    database: Database, inbox: Inbox, clock: FakeClock
) -> None:
    journal_id = await accepted(inbox, "Ev5")
    with crash_when_the_outbox_is_written(database):
        await inbox.answer(journal_id, question("Ev5"))  # answer and apology both fail
    assert await outbox_rows(database) == []
    assert await unfinished(database) == 1  # so it is replayed, not lost
    clock.advance(seconds=61)
    assert await inbox.replay_stale() == 1
    assert len(await outbox_rows(database)) == 1


async def test_a_bug_while_answering_gets_the_apology_and_finishes_the_event(
    database: Database, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(message: IncomingMessage) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(inbox._desk, "on_message", broken)
    await inbox.answer(await accepted(inbox, "Ev6"), question("Ev6"))
    (row,) = await outbox_rows(database)
    assert GENERIC_APOLOGY[:40] in row.payload
    assert await unfinished(database) == 0


async def test_a_claim_whose_notifications_cannot_be_written_is_not_committed(
    database: Database, inbox: Inbox, desk: EvidenceDesk
) -> None:
    ticket = await desk.requests.tickets.create(DRAFT)
    with crash_when_the_outbox_is_written(database):
        await inbox.act(claim(ticket.reference), Destination("slack", QUEUE))
    # The claim went with its card update and the requester's message.
    assert await status_of(database, ticket.id) == "new"
    assert await outbox_rows(database) == []


async def test_a_claim_commits_with_its_card_update_and_the_requesters_message(
    database: Database, inbox: Inbox, desk: EvidenceDesk
) -> None:
    ticket = await desk.requests.tickets.create(DRAFT)
    outcome = await inbox.act(claim(ticket.reference), Destination("slack", QUEUE))
    assert outcome.reply is not None and outcome.reply.ephemeral  # "You have claimed ..."
    rows = await outbox_rows(database)
    assert [r.card_key is not None for r in rows] == [True, False]
    assert "picked up your request" in rows[1].payload
    assert await status_of(database, ticket.id) == "claimed"


async def test_nested_transactions_join_the_unit_of_work_and_roll_back_alone(
    database: Database,
) -> None:
    async with database.unit_of_work():
        async with database.transaction() as session:
            session.add(JournalRow(platform="t", event_id="kept", payload="{}",
                                   received_at=FakeClock().now, attempts=1))  # fmt: skip
        with pytest.raises(RuntimeError):
            async with database.transaction() as session:
                session.add(JournalRow(platform="t", event_id="undone", payload="{}",
                                       received_at=FakeClock().now, attempts=1))  # fmt: skip
                await session.flush()
                raise RuntimeError("this part fails")
    async with database.read() as session:
        ids = set(await session.scalars(select(JournalRow.event_id)))
    assert ids == {"kept"}


async def test_nothing_of_a_unit_of_work_is_committed_when_it_fails(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.unit_of_work():
            async with database.transaction() as session:
                session.add(JournalRow(platform="t", event_id="gone", payload="{}",
                                       received_at=FakeClock().now, attempts=1))  # fmt: skip
            raise RuntimeError("the work failed after a part of it was done")
    async with database.read() as session:
        assert await session.scalar(select(func.count()).select_from(JournalRow)) == 0


@contextmanager
def done_marks_counted(database: Database) -> Iterator[list[int]]:
    """How many statements mark inbound events done (one per transaction that answers)."""
    counted = [0]

    def count(statement: str) -> None:
        counted[0] += 1

    with on_sending(database, "UPDATE INBOUND_EVENTS", count):
        yield counted


async def test_messages_waiting_together_are_answered_in_one_transaction_each_once(
    database: Database, inbox: Inbox
) -> None:
    events = [question(f"EvB{n}") for n in range(5)]
    ids = await accept_all(inbox, events)
    with done_marks_counted(database) as done_marks:
        await answer_together(inbox, events, ids)
    assert done_marks == [1]
    rows = await outbox_rows(database)
    assert len(rows) == 5 and all("OpenAthens" in row.payload for row in rows)
    assert await unfinished(database) == 0


async def test_a_bug_in_one_message_of_a_batch_leaves_the_others_answered(
    database: Database, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = inbox._desk.on_message

    async def broken_for_one(message: IncomingMessage) -> Any:
        if message.text == "library opening hours":
            raise RuntimeError("a bug")
        return await answer(message)

    monkeypatch.setattr(inbox._desk, "on_message", broken_for_one)
    events = [question("EvC1"), question("EvC2", "library opening hours"), question("EvC3")]
    await answer_together(inbox, events, await accept_all(inbox, events))
    payloads = [row.payload for row in await outbox_rows(database)]
    assert sum("OpenAthens" in p for p in payloads) == 2
    assert sum(GENERIC_APOLOGY[:40] in p for p in payloads) == 1
    assert await unfinished(database) == 0


async def test_an_event_of_a_batch_finished_elsewhere_is_not_answered_again(
    database: Database, inbox: Inbox
) -> None:
    events = [question(f"EvD{n}") for n in range(3)]
    ids = await accept_all(inbox, events)
    assert ids[1] is not None
    await inbox.journal.finish(ids[1])  # a peer answered it meanwhile
    await answer_together(inbox, events, ids)
    assert len(await outbox_rows(database)) == 2
    assert await unfinished(database) == 0


async def test_an_event_handed_back_at_shutdown_is_left_to_the_peer_that_replays_it(
    database: Database, inbox: Inbox
) -> None:
    journal_id = await accepted(inbox, "Ev-back")
    assert await inbox.journal.release_held(grace=0) == 1  # SIGTERM: given back, not answered
    await inbox.answer(journal_id, question("Ev-back"))  # the answer still queued in this process
    assert await outbox_rows(database) == []
    assert await unfinished(database) == 1  # for the peer, at once (no lease to wait out)
