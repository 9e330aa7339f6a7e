"""Listening mode in the neutral core: opt-in, confidence, once a thread, a rate limit, the
audit trail, and nothing stored of what is heard."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.db.session import Database
from bot.desk.listening_store import ListeningStore
from bot.messages import IncomingMessage, Intent, Platform, UserAction
from handlers.desk import EvidenceDesk
from handlers.listening import LISTEN_STOP, Listener
from tests.db.conftest import FakeClock

CHANNEL = "C_TEAM"


@pytest.fixture
async def listener(desk: EvidenceDesk, database: Database, clock: FakeClock) -> Listener:
    desk.listener = Listener(desk.answerer, ListeningStore(database, clock), 0.32, per_hour=2)
    return desk.listener


def heard(text_: str, ts: str, thread: str | None = None) -> IncomingMessage:
    return IncomingMessage(
        Platform.SLACK, "U_NURSE", text_, conversation_id=CHANNEL, thread_id=thread, message_id=ts
    )


async def test_a_channel_is_not_listened_to_by_default(
    desk: EvidenceDesk, listener: Listener
) -> None:
    assert (
        await desk.on_overheard(heard("anyone know how to reset their athens password?", "1.1"))
        is None
    )


async def test_faq_question_in_an_opted_in_channel_is_answered_with_controls(
    desk: EvidenceDesk, listener: Listener
) -> None:
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    reply = await desk.on_overheard(heard("anyone know how to reset their athens password?", "1.2"))
    assert reply is not None and reply.faq_id == "openathens-forgotten-password"
    assert {"Not now", "Stop listening here"} <= {b.label for b in reply.buttons}


async def test_chatter_is_ignored(desk: EvidenceDesk, listener: Listener) -> None:
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    for n, chatter in enumerate(["bed 4 needs obs at 2", "who's on call tonight?", "thanks all"]):
        assert await desk.on_overheard(heard(chatter, f"2.{n}")) is None


async def test_search_request_gets_the_offer_of_a_form_not_a_ticket(
    desk: EvidenceDesk, listener: Listener, database: Database
) -> None:
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    reply = await desk.on_overheard(
        heard("has anyone got evidence on early mobilisation after hip fracture?", "3.1")
    )
    assert reply is not None and reply.intent is Intent.SEARCH_REQUEST
    assert reply.buttons[0].action == "request_open"
    async with database.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM tickets"))).scalar() == 0


async def test_thread_replies_and_a_second_question_in_a_thread_are_ignored(
    desk: EvidenceDesk, listener: Listener
) -> None:
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    assert await desk.on_overheard(heard("how do I reset my athens password?", "4.1")) is not None
    assert (
        await desk.on_overheard(heard("and when is the library open?", "4.2", thread="4.1")) is None
    )


async def test_the_hourly_limit_keeps_the_bot_quiet(desk: EvidenceDesk, listener: Listener) -> None:
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    answers = [
        await desk.on_overheard(heard("how do I reset my athens password?", f"5.{n}"))
        for n in range(3)
    ]
    assert [a is not None for a in answers] == [True, True, False]


async def test_stop_listening_here_turns_it_off_and_is_audited(
    desk: EvidenceDesk, listener: Listener
) -> None:
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    outcome = await desk.on_action(
        UserAction(Platform.SLACK, "U_NURSE", LISTEN_STOP, user_name="Pat", channel_id=CHANNEL)
    )
    assert outcome.reply is not None and "turned listening off" in outcome.reply.text
    assert await desk.on_overheard(heard("how do I reset my athens password?", "6.1")) is None
    audit = await listener.store.audit("slack", CHANNEL)
    assert [(actor, action) for actor, action, _ in audit] == [
        ("slack:U_LEAD", "on"),
        ("slack:U_NURSE", "off"),
    ]


async def test_nothing_heard_is_stored(
    desk: EvidenceDesk, listener: Listener, database: Database
) -> None:
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    await desk.on_overheard(
        heard("does anyone know where the blue cheese helicopter lives?", "7.1")
    )
    await desk.on_overheard(heard("how do I reset my athens password?", "7.2"))
    async with database.engine.connect() as connection:
        unanswered = (
            await connection.execute(text("SELECT count(*) FROM unanswered_questions"))
        ).scalar()
        replies = (await connection.execute(text("SELECT * FROM listening_replies"))).all()
    assert unanswered == 0
    assert "athens" not in str(replies)


async def test_status_reports_whether_listening_is_on(listener: Listener) -> None:
    assert "off" in (await listener.command("slack", CHANNEL, "slack:U_LEAD", "status")).text
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    assert "on" in (await listener.command("slack", CHANNEL, "slack:U_LEAD", "status")).text


async def test_a_risk_to_life_is_signposted_unasked_even_in_a_thread_past_the_hourly_limit(
    desk: EvidenceDesk, listener: Listener
) -> None:
    await listener.command("slack", CHANNEL, "slack:U_LEAD", "on")
    for n in range(2):  # the hourly limit (2) used up, and the thread already answered
        assert await desk.on_overheard(heard("how do I reset my athens password?", f"8.{n}"))
    crisis = await desk.on_overheard(heard("honestly I just want to end it all", "8.5", "8.0"))
    assert crisis is not None and crisis.intent is Intent.URGENT
    assert "116 123" in crisis.text and "option 2" in crisis.text
    # Once a thread: the next message in the same thread is not signposted again.
    assert await desk.on_overheard(heard("I want to die", "8.6", "8.0")) is None
