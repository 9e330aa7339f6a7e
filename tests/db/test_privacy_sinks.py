"""Patient identifiers never reach the four places they must not: the database, the
specialist, the logs, and exception messages."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from bot.db.session import Database
from bot.delivery.journal import InboundJournal
from bot.delivery.outbox import DeliveryError
from bot.desk.privacy import PrivacyScanner
from bot.messages import Platform, UserAction
from handlers.desk import EvidenceDesk
from handlers.intake import FormState
from tests.db.conftest import QUEUE, THREAD, WARD
from tests.db.messengers import RecordingMessenger
from tests.signed import form_state

NHS = "943 476 5919"
DIGITS = "9434765919"
DOB = "12/03/1950"


def leaks(blob: str) -> bool:
    squeezed = "".join(ch for ch in blob if ch.isdigit())
    return DIGITS in squeezed or DOB in blob


async def submit_with_identifiers(desk: EvidenceDesk) -> str:
    outcome = await desk.on_action(
        UserAction(
            Platform.SLACK, "U_REQ", "request_submit", user_name="Dr Requester",
            values=(("question", f"falls in patient NHS {NHS} DOB {DOB}"), ("purpose", "direct_patient_care"),
                    ("notes", f"call 07700 900123 re {NHS}"), ("privacy_ack", "remove_and_send")),
            form_state=FormState(WARD, THREAD).encode(desk.requests.signer), event_id="ev-privacy",
        )
    )  # fmt: skip
    assert outcome.reply is not None and outcome.reply.title
    return outcome.reply.title


async def test_identifiers_never_reach_the_database(desk: EvidenceDesk, database: Database) -> None:
    reference = await submit_with_identifiers(desk)
    await desk.on_action(UserAction(Platform.SLACK, "U_SPEC", "ticket_claim", value=reference))
    await desk.on_action(
        UserAction(Platform.SLACK, "U_SPEC", "ticket_ask_submit", form_state=reference,
                   values=(("question", f"Is {NHS} the right patient?"),))
    )  # fmt: skip
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        dump = []
        for table in tables:
            rows = (await connection.execute(text(f'SELECT * FROM "{table}"'))).all()  # noqa: S608
            dump.extend(str(row) for row in rows)
    assert not leaks("\n".join(dump))


async def test_identifiers_never_reach_the_specialist(desk: EvidenceDesk) -> None:
    await submit_with_identifiers(desk)
    slack = RecordingMessenger()
    await desk.requests.outbox.deliver_due({"slack": slack})
    to_specialist = [t for d, t in slack.posts if d.channel_id == QUEUE]
    assert to_specialist
    assert not any(leaks(t) for t in to_specialist)


async def test_identifiers_never_reach_the_logs(
    desk: EvidenceDesk, caplog: pytest.LogCaptureFixture
) -> None:
    # SQLAlchemy's statement log records every parameter the database is sent, and a failed
    # delivery logs its reason: both would carry an identifier that got past the scanner.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    reference = await submit_with_identifiers(desk)
    await desk.on_action(UserAction(Platform.SLACK, "U_SPEC", "ticket_claim", value=reference))
    failing = RecordingMessenger(failures=[DeliveryError("Slack error 500 internal_error")])
    await desk.requests.outbox.deliver_due({"slack": failing})
    logged = [r.name for r in caplog.records]
    assert any(name.startswith("sqlalchemy.engine") for name in logged)
    assert "bot.delivery.outbox" in logged
    assert not leaks("\n".join(r.getMessage() for r in caplog.records))


async def test_identifiers_never_reach_an_error_message(desk: EvidenceDesk) -> None:
    reference = await submit_with_identifiers(desk)
    # Asking before anyone has claimed the request is refused; the refusal must not quote it.
    outcome = await desk.on_action(
        UserAction(Platform.SLACK, "U_SPEC", "ticket_ask_submit", form_state=reference,
                   values=(("question", f"about {NHS}?"),))
    )  # fmt: skip
    assert outcome.reply is not None
    assert not leaks(outcome.reply.text)


async def test_a_failed_statement_does_not_carry_its_parameters(database: Database) -> None:
    # A DataError's traceback is logged; SQLAlchemy puts the statement's parameters in it
    # unless the engine hides them.
    with pytest.raises(DBAPIError) as caught:
        async with database.engine.connect() as connection:
            await connection.execute(
                text("SELECT no_such_column FROM tickets WHERE requester_name = :name"),
                {"name": f"NHS {NHS}"},
            )
    assert "hidden" in str(caught.value)
    assert not leaks(str(caught.value))


async def test_no_statement_parameters_in_the_driver_debug_log(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with database.transaction() as session:
        await session.execute(text("SELECT :said"), {"said": f"NHS {NHS}"})
    if database.dialect == "sqlite":
        assert caplog.records  # aiosqlite logs every call at DEBUG (asyncpg logs none)
    assert not leaks("\n".join(r.getMessage() for r in caplog.records))


async def table_text(database: Database) -> str:
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        rows = []
        for table in tables:
            result = await connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608
            rows.extend(str(row) for row in result.all())
    return "\n".join(rows)


async def test_a_display_name_is_scanned_before_it_is_stored(
    desk: EvidenceDesk, database: Database
) -> None:
    await desk.on_action(
        UserAction(Platform.SLACK, "U_REQ", "request_submit", user_name=f"Ward 4 {NHS}",
                   values=(("question", "falls prevention"), ("purpose", "research")),
                   form_state=form_state(WARD, THREAD), event_id="ev-name")
    )  # fmt: skip
    stored = await table_text(database)
    assert "Ward 4 [NHS number removed]" in stored
    assert not leaks(stored)


async def test_a_vote_value_is_scanned_before_it_is_stored(
    desk: EvidenceDesk, database: Database
) -> None:
    await desk.on_action(
        UserAction(
            Platform.WEB, "web-1", "faq_helpful", value=f"about {NHS} 943&nbsp;476&nbsp;5919"
        )
    )
    stored = await table_text(database)
    assert "about [NHS number removed] [NHS number removed]" in stored
    assert not leaks(stored)


async def test_an_event_is_journalled_without_identifiers_however_they_are_encoded(
    database: Database,
) -> None:
    # Until it is answered an event's payload waits in the journal, as the platform sent it:
    # Teams writes pasted spaces as &nbsp;, Slack wraps phone numbers in <tel:...> links.
    journal = InboundJournal(database, PrivacyScanner())
    await journal.record("teams", "ev-encoded", {
        "text": "NHS 943&nbsp;476&nbsp;5919", "from": {"name": "Ward\u00a0943\u200b476\u200b5919"},
        "note": "ring <tel:07700900123|07700 900123>"})  # fmt: skip
    stored = await table_text(database)
    assert not leaks(stored)
    assert "07700" not in stored
    assert "[NHS number removed]" in stored and "[phone number removed]" in stored
