"""The inbound journal: what is stored before an event is acknowledged."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db.models import InboundEvent
from bot.db.session import Database
from bot.delivery.journal import InboundJournal
from bot.desk.privacy import PrivacyScanner

NHS = "943 476 5919"


def mention(text: str) -> dict[str, object]:
    return {
        "type": "app_mention", "user": "U0ALEX", "channel": "C0WARD",
        "ts": "1700000000.000100", "event_ts": "1700000000.000100",
        "client_msg_id": "3f2a-0001", "text": text,
    }  # fmt: skip


async def stored_payload(database: Database, journal_id: int) -> dict[str, object]:
    async with database.read() as session:
        raw = await session.scalar(
            select(InboundEvent.payload).where(InboundEvent.id == journal_id)
        )
    assert raw is not None
    payload: dict[str, object] = json.loads(raw)
    return payload


async def test_patient_identifiers_in_an_event_are_stored_redacted(database: Database) -> None:
    journal = InboundJournal(database, PrivacyScanner())
    journal_id = await journal.record("slack", "Ev1", mention(f"evidence for NHS {NHS}?"))
    assert journal_id is not None
    payload = await stored_payload(database, journal_id)
    assert "5919" not in json.dumps(payload)
    assert "[NHS number removed]" in str(payload["text"])


async def test_ids_and_timestamps_the_platform_assigned_are_stored_as_they_came(
    database: Database,
) -> None:
    journal = InboundJournal(database, PrivacyScanner())
    event = mention("library opening hours")
    journal_id = await journal.record("slack", "Ev2", event)
    assert journal_id is not None
    assert await stored_payload(database, journal_id) == event


async def test_a_second_delivery_of_an_event_id_is_recognised(database: Database) -> None:
    journal = InboundJournal(database, PrivacyScanner())
    first = await journal.record("slack", "Ev3", mention("hello"))
    again = await journal.record("slack", "Ev3", mention("hello"))
    assert first is not None and again is None


async def test_a_burst_of_events_each_gets_its_own_journal_row(database: Database) -> None:
    journal = InboundJournal(database, PrivacyScanner())
    ids = await asyncio.gather(
        *(journal.record("slack", f"Ev-burst-{n}", mention(f"q{n}")) for n in range(50))
    )
    assert None not in ids and len(set(ids)) == 50
    assert all(journal.holds(journal_id) for journal_id in ids if journal_id is not None)


async def test_an_event_is_no_longer_held_once_finished(database: Database) -> None:
    journal = InboundJournal(database, PrivacyScanner())
    journal_id = await journal.record("slack", "Ev4", mention("hello"))
    assert journal_id is not None
    await journal.finish(journal_id)
    assert not journal.holds(journal_id)
    assert await journal.is_done(journal_id)


async def test_a_read_sees_what_was_committed_without_taking_the_writers_turn(
    database: Database,
) -> None:
    journal = InboundJournal(database, PrivacyScanner())
    journal_id = await journal.record("slack", "Ev5", mention("hello"))
    async with database.transaction() as writing:
        await writing.execute(select(1))
        # A reader alongside an open write transaction neither waits for it nor fails.
        async with asyncio.timeout(5):
            assert await stored_payload(database, journal_id or 0)


async def test_a_finished_events_text_is_not_kept(database: Database) -> None:
    journal = InboundJournal(database, PrivacyScanner())
    journal_id = await journal.record("slack", "Ev6", mention("anyone know the athens reset?"))
    assert journal_id is not None
    await journal.finish(journal_id)
    assert await stored_payload(database, journal_id) == {}
    assert await journal.record("slack", "Ev6", mention("again")) is None  # still recognised


async def test_an_answered_events_text_is_not_kept(database: Database) -> None:
    journal = InboundJournal(database, PrivacyScanner())
    journal_id = await journal.record("slack", "Ev7", mention("library opening hours"))
    assert journal_id is not None
    async with database.transaction() as session:
        await journal.finish_in(session, journal_id)
    assert await stored_payload(database, journal_id) == {}


async def test_finished_events_are_forgotten_after_a_week_and_unfinished_ones_never(
    database: Database,
) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    clock = [now]
    journal = InboundJournal(database, PrivacyScanner(), clock=lambda: clock[0])
    finished = await journal.record("slack", "Ev-old", mention("hello"))
    unfinished = await journal.record("slack", "Ev-open", mention("hello"))
    assert finished is not None and unfinished is not None
    await journal.finish(finished)
    clock[0] = now + timedelta(days=6)
    assert await journal.forget_finished() == 0
    clock[0] = now + timedelta(days=8)
    assert await journal.forget_finished() == 1
    async with database.read() as session:
        left = (await session.scalars(select(InboundEvent.event_id))).all()
    assert left == ["Ev-open"]
