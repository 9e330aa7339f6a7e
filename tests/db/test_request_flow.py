"""A search request's whole story through the neutral core: intake, privacy, routing, the
specialist's card, clarification relayed both ways, delivery and the impact questions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from bot.db.session import Database
from bot.delivery.outbox import Destination
from bot.desk.tickets.lifecycle import TicketStatus
from bot.messages import IncomingMessage, Platform, UserAction
from handlers.desk import EvidenceDesk
from handlers.intake import FormState
from tests.db.conftest import QUEUE, THREAD, WARD
from tests.db.messengers import RecordingMessenger
from tests.signed import TEST_SIGNER, form_state

VALID_NHS = "943 476 5919"


def act(
    action: str, user: str = "U_REQ", value: str = "", state: str = "", **values: str
) -> UserAction:
    return UserAction(
        platform=Platform.SLACK, user_id=user, action=action, value=value, user_name="Dr Requester",
        channel_id=WARD, thread_id=THREAD, values=tuple(values.items()), form_state=state,
        event_id=f"ev-{action}-{sorted(values.items())}",
    )  # fmt: skip


REQUEST_STATE = form_state(WARD, THREAD)


async def deliver(desk: EvidenceDesk) -> RecordingMessenger:
    slack = RecordingMessenger()
    await desk.requests.outbox.deliver_due({"slack": slack})
    return slack


async def submit_clean(desk: EvidenceDesk, **extra: Any) -> str:
    outcome = await desk.on_action(
        act(
            "request_submit",
            state=REQUEST_STATE,
            question="falls prevention",
            purpose="research",
            **extra,
        )
    )
    assert outcome.reply is not None, outcome
    assert outcome.reply.title is not None
    return outcome.reply.title


async def test_request_form_opens_prefilled_from_the_button(desk: EvidenceDesk) -> None:
    outcome = await desk.on_action(act("request_open", value="delirium screening"))
    assert outcome.form is not None
    assert outcome.form.fields[0].value == "delirium screening"
    assert FormState.decode(outcome.form.state, TEST_SIGNER) == FormState(WARD, THREAD)


async def test_request_with_an_nhs_number_is_sent_back_and_nothing_is_stored(
    desk: EvidenceDesk, database: Database
) -> None:
    outcome = await desk.on_action(
        act(
            "request_submit",
            state=REQUEST_STATE,
            question=f"falls for {VALID_NHS}",
            purpose="research",
        )
    )
    assert outcome.form is not None
    assert "NHS number" in (outcome.form.error_for("question") or "")
    async with database.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM tickets"))).scalar() == 0


async def test_request_sent_anyway_is_stored_with_identifiers_removed(
    desk: EvidenceDesk, database: Database
) -> None:
    reference = await submit_clean(
        desk, notes=f"patient {VALID_NHS}", privacy_ack="remove_and_send"
    )
    async with database.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT notes FROM tickets"))).scalar()
    assert stored == "patient [NHS number removed]"
    assert reference.startswith("KLS-")


async def test_new_request_gets_a_reference_and_reaches_the_team_queue(desk: EvidenceDesk) -> None:
    reference = await submit_clean(desk)
    slack = await deliver(desk)
    ((destination, card),) = slack.posts
    assert destination == Destination("slack", QUEUE)
    assert reference in card and "falls prevention" in card


async def test_retried_submission_creates_one_ticket(desk: EvidenceDesk) -> None:
    first = await submit_clean(desk)
    second = await submit_clean(desk)
    assert first == second


async def test_only_a_specialist_can_claim(desk: EvidenceDesk) -> None:
    reference = await submit_clean(desk)
    outcome = await desk.on_action(act("ticket_claim", user="U_STRANGER", value=reference))
    assert outcome.reply is not None
    assert "Only the library's knowledge specialists" in outcome.reply.text


async def test_whole_story_from_request_to_impact(desk: EvidenceDesk) -> None:
    reference = await submit_clean(desk)
    await deliver(desk)

    await desk.on_action(act("ticket_claim", user="U_SPEC", value=reference))
    slack = await deliver(desk)
    assert any("picked up your request" in text for _, text in slack.posts)

    await desk.on_action(
        act("ticket_ask_submit", user="U_SPEC", state=reference, question="Adults only?")
    )
    slack = await deliver(desk)
    to_requester = [(d, t) for d, t in slack.posts if d.thread_id == THREAD]
    assert to_requester and "Adults only?" in to_requester[0][1]

    reply = await desk.on_message(
        IncomingMessage(
            Platform.SLACK, "U_REQ", "Yes, over 65s", conversation_id=WARD, thread_id=THREAD
        )
    )
    assert "passed that on" in reply.text
    slack = await deliver(desk)
    assert any("Yes, over 65s" in t for d, t in slack.posts if d.channel_id == QUEUE)

    await desk.on_action(
        act("ticket_complete_submit", user="U_SPEC", state=reference, summary="Three reviews found.",
            links="https://library.example.nhs.uk/results/1")
    )  # fmt: skip
    slack = await deliver(desk)
    delivered = [t for d, t in slack.posts if d.thread_id == THREAD]
    assert delivered and "Three reviews found." in delivered[0]

    outcome = await desk.on_action(
        act("ticket_impact_submit", state=reference, helped="yes", how_used="patient_care_decision",
            time_saved_hours="3")
    )  # fmt: skip
    assert outcome.reply is not None and "Thank you" in outcome.reply.text
    ticket = await desk.requests.tickets.get(reference)
    assert ticket.status is TicketStatus.COMPLETED
    (impact,) = await desk.requests.tickets.impacts(reference)
    assert impact.helped


async def test_claim_updates_the_card_in_place(desk: EvidenceDesk) -> None:
    reference = await submit_clean(desk)
    slack = RecordingMessenger()
    await desk.requests.outbox.deliver_due({"slack": slack})
    await desk.on_action(act("ticket_claim", user="U_SPEC", value=reference))
    await desk.requests.outbox.deliver_due({"slack": slack})
    assert len([p for p in slack.posts if p[0].channel_id == QUEUE]) == 1
    assert any("Claimed by Sam Librarian" in text for _, text in slack.updates)


async def test_complete_with_a_malformed_link_is_sent_back(desk: EvidenceDesk) -> None:
    reference = await submit_clean(desk)
    await desk.on_action(act("ticket_claim", user="U_SPEC", value=reference))
    outcome = await desk.on_action(
        act(
            "ticket_complete_submit",
            user="U_SPEC",
            state=reference,
            summary="x",
            links="not a link",
        )
    )
    assert outcome.form is not None and outcome.form.error_for("links")


async def test_faq_feedback_is_recorded(desk: EvidenceDesk, database: Database) -> None:
    outcome = await desk.on_action(act("faq_not_helpful", value="library-opening-hours"))
    assert outcome.reply is not None
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(text("SELECT faq_id, helpful, user_hash FROM faq_feedback"))
        ).one()
    assert row[0] == "library-opening-hours" and not row[1] and "U_REQ" not in row[2]


async def test_unanswered_question_is_counted_without_identifiers(desk: EvidenceDesk) -> None:
    for _ in range(2):
        await desk.on_message(
            IncomingMessage(Platform.SLACK, "U_REQ", f"blue cheese helicopter {VALID_NHS}")
        )
    (row,) = await desk.feedback.unanswered()
    assert row.count == 2
    assert "5919" not in row.text


async def test_unknown_button_gets_a_clear_reply(desk: EvidenceDesk) -> None:
    outcome = await desk.on_action(act("no_such_action"))
    assert outcome.reply is not None and "don't recognise" in outcome.reply.text


async def test_an_emergency_in_a_reply_to_the_specialist_is_relayed_and_signposted(
    desk: EvidenceDesk,
) -> None:
    reference = await submit_clean(desk)
    await desk.on_action(act("ticket_claim", user="U_SPEC", value=reference))
    await desk.on_action(
        act("ticket_ask_submit", user="U_SPEC", state=reference, question="Adults only?")
    )
    await deliver(desk)
    answer = "Sorry, can't talk, my colleague has collapsed and is not breathing"
    reply = await desk.on_message(
        IncomingMessage(Platform.SLACK, "U_REQ", answer, conversation_id=WARD, thread_id=THREAD)
    )
    assert "call 999 now" in reply.text
    slack = await deliver(desk)
    assert any(answer in t for d, t in slack.posts if d.channel_id == QUEUE)
