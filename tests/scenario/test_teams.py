"""Evidence Desk in Microsoft Teams, driven by real Bot Framework activities over HTTP.

The app is the real one (create_app + the Teams adapter, botbuilder's CloudAdapter, a SQLite
file); activities are POSTed to /api/messages as Teams would, and the bot's answers travel
through botbuilder's real ConnectorClient to a local fake connector (tests/fakes), whose
recorded calls are what the tests look at.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from bot.clock import utc_now
from bot.db.models import ConversationRef, OutboxMessage
from bot.delivery.outbox import Destination, Outbox
from bot.keys import DATABASE, MESSENGERS, OUTBOX
from bot.messages import Intent, Reply
from bot.platforms.teams import MESSAGES_PATH
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.settle import settle
from tests.teams_world import (
    ALEX,
    BOT,
    PERSONAL,
    VALID_NHS_NUMBER,
    WARD,
    WARD_CHANNEL,
    WARD_THREAD,
    TeamsWorld,
    build_app,
    clean_request,
    inputs,
    open_form,
    submit_data,
    welcome_in_ward,
    without_teams_variables,
)

# ---- answering -----------------------------------------------------------------------------


async def test_personal_question_gets_a_card_with_the_answer_its_source_and_feedback_buttons(
    teams: TeamsWorld,
) -> None:
    (reply,) = await teams.say(teams.activity(text="forgot my athens password"))
    assert reply.conversation_id == PERSONAL["id"]
    assert reply.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = reply.card
    assert card["version"] == "1.5"
    assert "OpenAthens password" in reply.text
    assert "Source: [NHS OpenAthens](https://openathens.nice.org.uk/)" in reply.text
    actions = {a["title"]: a["data"] for a in card["actions"]}
    assert actions["Helpful"] == {"action": "faq_helpful", "value": "openathens-forgotten-password"}
    assert actions["Not helpful"]["action"] == "faq_not_helpful"


async def test_channel_mention_is_answered_in_its_thread(teams: TeamsWorld) -> None:
    message = teams.channel_message("forgot my athens password")
    (reply,) = await teams.say(message)
    assert reply.conversation_id == WARD["id"]  # the post's reply chain
    assert "OpenAthens password" in reply.text


async def test_adding_the_bot_sends_a_welcome(teams: TeamsWorld) -> None:
    update = teams.activity(type="conversationUpdate", membersAdded=[BOT], conversation=WARD)
    (welcome,) = await teams.say(update)
    assert welcome.conversation_id == WARD["id"]
    assert "never give clinical advice" in welcome.text


async def test_adding_someone_else_sends_nothing(teams: TeamsWorld) -> None:
    update = teams.activity(type="conversationUpdate", membersAdded=[ALEX], conversation=WARD)
    assert await teams.say(update) == []


async def test_request_for_evidence_offers_the_request_form(teams: TeamsWorld) -> None:
    (reply,) = await teams.say(teams.activity(text="can you find evidence on falls prevention?"))
    button = next(a for a in reply.card["actions"] if a["title"] == "Open the request form")
    assert button["data"] == {"action": "request_open", "value": "falls prevention"}


async def test_patient_details_in_a_message_are_warned_about_before_the_answer(
    teams: TeamsWorld,
) -> None:
    calls = await teams.say(
        teams.activity(text=f"forgot my athens password, patient {VALID_NHS_NUMBER}")
    )
    warning, answer = calls
    assert "It looks like your message contains an NHS number" in warning.text
    assert "OpenAthens password" in answer.text


# ---- the request form ------------------------------------------------------------------------


async def test_request_open_sends_the_form_card_with_text_choice_and_date_inputs(
    teams: TeamsWorld,
) -> None:
    form = await open_form(teams)
    fields = inputs(form)
    assert fields["in_question"]["type"] == "Input.Text"
    assert fields["in_question"]["isMultiline"] is True
    assert fields["in_question"]["value"] == "falls prevention"
    assert fields["in_purpose"]["type"] == "Input.ChoiceSet"
    assert fields["in_purpose"]["isRequired"] is True
    assert fields["in_deadline"]["type"] == "Input.Date"
    assert submit_data(form)["action"] == "request_submit"


async def test_form_with_an_nhs_number_comes_back_with_the_privacy_error_and_stores_nothing(
    teams: TeamsWorld,
) -> None:
    form = await open_form(teams)
    answers = clean_request({"in_question": f"falls in patient {VALID_NHS_NUMBER}"})
    (again,) = await teams.say(teams.submit(submit_data(form) | answers, card_id="act-form"))
    assert (again.method, again.activity_id) == ("PUT", "act-form")
    errors = [b["text"] for b in again.card["body"] if b.get("color") == "Attention"]
    assert any("NHS number" in e for e in errors)
    assert VALID_NHS_NUMBER in inputs(again)["in_question"]["value"]  # their answer is kept
    assert await teams.tickets() == 0


async def test_clean_form_becomes_a_receipt_and_the_reference_follows(teams: TeamsWorld) -> None:
    form = await open_form(teams)
    receipt, confirmation = await teams.say(
        teams.submit(submit_data(form) | clean_request(), card_id="act-form")
    )
    assert (receipt.method, receipt.activity_id) == ("PUT", "act-form")
    assert "Input." not in json.dumps(receipt.card)  # the form cannot be sent again
    assert confirmation.method == "POST"
    assert "KLS-" in confirmation.text
    assert await teams.tickets() == 1


async def test_redelivered_submission_creates_one_ticket(teams: TeamsWorld) -> None:
    form = await open_form(teams)
    submission = teams.submit(submit_data(form) | clean_request(), card_id="act-form")
    first = await teams.say(submission)
    second = await teams.say(submission)
    assert len(first) == 2  # the receipt and the reference
    assert second == []
    assert await teams.tickets() == 1


async def test_redelivered_message_is_answered_once(teams: TeamsWorld) -> None:
    message = teams.activity(text="library opening hours")
    assert len(await teams.say(message)) == 1
    assert await teams.say(message) == []


async def test_an_answer_waits_out_a_connector_outage_and_is_delivered_once(
    teams: TeamsWorld,
) -> None:
    teams.connector.fail_next(500, times=2)  # the connector is down for two attempts
    assert await teams.post(teams.activity(text="forgot my athens password")) == 200

    await settle(teams.app, within=20)  # retries are due in 2 s, then 4 s
    assert [c.status for c in teams.connector.calls] == [500, 500, 200]  # retried, not dropped
    assert sum("OpenAthens password" in c.text for c in teams.connector.delivered) == 1


async def test_an_activity_redelivered_while_its_answer_waits_is_answered_once(
    teams: TeamsWorld,
) -> None:
    teams.connector.fail_next(503)
    message = teams.activity(text="library opening hours")
    assert await teams.post(message) == 200
    assert await teams.post(message) == 200  # the Bot Framework tries again
    await settle(teams.app, within=20)  # retries are due in 2 s, then 4 s
    assert sum(c.ok for c in teams.connector.calls) == 1


async def test_feedback_button_is_thanked(teams: TeamsWorld) -> None:
    data = {"action": "faq_helpful", "value": "openathens-forgotten-password"}
    (thanks,) = await teams.say(teams.submit(data, card_id="act-answer"))
    assert thanks.method == "POST"
    assert "Thanks for the feedback" in thanks.text


# ---- bad requests --------------------------------------------------------------------------


async def test_malformed_json_is_refused_with_400(teams: TeamsWorld) -> None:
    response = await teams.client.post(
        MESSAGES_PATH, data='{"type": "message", ', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert "malformed JSON" in (await response.json())["error"]


async def test_json_that_is_not_an_activity_is_refused_with_400(teams: TeamsWorld) -> None:
    response = await teams.client.post(MESSAGES_PATH, json={"hello": "world"})
    assert response.status == 400
    assert "activity" in (await response.json())["error"]


async def test_activity_with_a_malformed_field_is_refused_with_400(teams: TeamsWorld) -> None:
    assert await teams.post(teams.activity(text="hi", entities="not a list")) == 400


@pytest.fixture
async def secured(
    aiohttp_client: Any,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    connector: FakeBotConnector,
) -> TeamsWorld:
    """The app with a Microsoft App ID configured: every request needs a Bot Framework token."""
    without_teams_variables(monkeypatch)
    monkeypatch.setenv("MicrosoftAppId", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("MicrosoftAppPassword", "not-a-real-secret")
    app = build_app(sqlite_url)
    return TeamsWorld(await aiohttp_client(app), connector, app)


async def test_request_without_a_token_is_refused_with_401_when_an_app_id_is_set(
    secured: TeamsWorld,
) -> None:
    assert await secured.post(secured.activity(text="hello")) == 401
    assert secured.connector.calls == []


async def test_request_with_a_forged_token_is_refused_with_401_when_an_app_id_is_set(
    secured: TeamsWorld,
) -> None:
    forged = {"Authorization": "Bearer not.a.jwt"}
    assert await secured.post(secured.activity(text="hello"), headers=forged) == 401
    assert secured.connector.calls == []


async def test_junk_without_a_token_is_refused_with_401_when_an_app_id_is_set(
    secured: TeamsWorld,
) -> None:
    assert await secured.post("{not json") == 401


def non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only, nothing is sent
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if ipaddress.ip_address(address).is_loopback else address


async def test_local_mode_refuses_requests_from_other_machines_with_403(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, connector: FakeBotConnector
) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to connect from")
    without_teams_variables(monkeypatch)
    app = build_app(sqlite_url)
    async with TestClient(TestServer(app, host=address)) as client:
        response = await client.post(MESSAGES_PATH, json={"type": "message"})
        assert response.status == 403
        assert "MicrosoftAppId" in (await response.json())["error"]


# ---- proactive messages ----------------------------------------------------------------------


def note(text_: str) -> Reply:
    return Reply(text=text_, intent=Intent.SEARCH_REQUEST)


#: The message a test queued by hand (the welcome before it went through the outbox too).
NEWEST_MESSAGE = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)


def by_hand(teams: TeamsWorld) -> Outbox:
    """An outbox on the app's database that wakes no worker: these tests deliver it
    themselves, one round at a time (the app's worker polls hourly here)."""
    return Outbox(teams.app[DATABASE])


async def card_posted(teams: TeamsWorld, key: str) -> Callable[[str], Awaitable[int]]:
    """A ticket's card ("Status: New") posted in the ward channel; what sends its next version
    (queued, then one delivery round: how many were delivered)."""
    await welcome_in_ward(teams)
    outbox, messengers = by_hand(teams), teams.app[MESSENGERS]

    async def next_version(status: str) -> int:
        await outbox.enqueue(Destination("teams", WARD_CHANNEL), note(status), card_key=key)
        return await outbox.deliver_due(messengers)

    await next_version("Status: New")
    return next_version


async def test_outbox_message_reaches_the_channel_thread(teams: TeamsWorld) -> None:
    await welcome_in_ward(teams)
    await by_hand(teams).enqueue(
        Destination("teams", WARD_CHANNEL, "1700000000999"), note("Your evidence is ready.")
    )
    assert await by_hand(teams).deliver_due(teams.app[MESSENGERS]) == 1
    sent = teams.connector.delivered[-1]
    assert (sent.method, sent.activity_id) == ("POST", None)  # sent to the conversation
    assert sent.conversation_id == f"{WARD_CHANNEL};messageid=1700000000999"
    assert "Your evidence is ready." in sent.text


async def test_outbox_message_to_a_person_goes_to_their_personal_chat(teams: TeamsWorld) -> None:
    await teams.say(teams.activity(type="conversationUpdate", membersAdded=[BOT]))
    await by_hand(teams).enqueue(Destination("teams", "aad-alex"), note("A new request."))
    assert await by_hand(teams).deliver_due(teams.app[MESSENGERS]) == 1
    assert teams.connector.delivered[-1].conversation_id == PERSONAL["id"]


async def test_outbox_message_to_a_persons_bot_framework_id_reaches_them_too(
    teams: TeamsWorld,
) -> None:
    await teams.say(teams.activity(type="conversationUpdate", membersAdded=[BOT]))
    await by_hand(teams).enqueue(Destination("teams", ALEX["id"]), note("A new request."))
    assert await by_hand(teams).deliver_due(teams.app[MESSENGERS]) == 1
    assert teams.connector.delivered[-1].conversation_id == PERSONAL["id"]


async def test_living_card_is_posted_once_then_updated_in_place(teams: TeamsWorld) -> None:
    next_version = await card_posted(teams, "ticket:KLS-2026-00001:card")
    await next_version("Status: Claimed")
    posted, updated = teams.connector.delivered[-2:]
    assert (posted.method, updated.method) == ("POST", "PUT")
    assert updated.activity_id == posted.answered_id
    assert "Status: Claimed" in updated.text


async def test_conversation_reference_outlives_a_restart(
    teams: TeamsWorld, sqlite_url: str
) -> None:
    await welcome_in_ward(teams)
    restarted = build_app(sqlite_url)  # same database, nothing shared in memory
    try:
        await restarted[OUTBOX].enqueue(Destination("teams", WARD_CHANNEL), note("Still here."))
        assert await restarted[OUTBOX].deliver_due(restarted[MESSENGERS]) == 1
    finally:
        await restarted[DATABASE].dispose()
    sent = teams.connector.delivered[-1]
    assert (sent.conversation_id, "Still here." in sent.text) == (WARD_CHANNEL, True)


async def test_every_conversation_reference_is_stored_in_the_database(teams: TeamsWorld) -> None:
    await teams.say(teams.channel_message("library opening hours"))
    async with teams.app[DATABASE].transaction() as session:
        row = await session.scalar(select(ConversationRef))
    assert row is not None
    assert (row.platform, row.user_id, row.conversation_id) == ("teams", "aad-alex", WARD_CHANNEL)
    assert row.thread_id == WARD_THREAD
    assert row.reference is not None and row.reference["serviceUrl"] == teams.connector.url


async def test_rate_limited_message_is_delivered_once_after_retry_after(
    teams: TeamsWorld,
) -> None:
    await welcome_in_ward(teams)
    outbox, messengers = by_hand(teams), teams.app[MESSENGERS]
    await outbox.enqueue(Destination("teams", WARD_CHANNEL), note("Reminder."))
    teams.connector.fail_next(429, retry_after=30)
    assert await outbox.deliver_due(messengers) == 0
    async with teams.app[DATABASE].transaction() as session:
        row = (await session.scalars(NEWEST_MESSAGE)).one()
        waited = row.next_attempt_at - utc_now()
        assert timedelta(seconds=25) < waited <= timedelta(seconds=30)
        await session.execute(
            update(OutboxMessage).values(next_attempt_at=utc_now() - timedelta(seconds=1))
        )
    assert await outbox.deliver_due(messengers) == 1
    assert [c.status for c in teams.connector.calls[-2:]] == [429, 200]
    assert sum("Reminder." in c.text for c in teams.connector.delivered) == 1


async def test_connector_outage_is_retried_not_lost(teams: TeamsWorld) -> None:
    await welcome_in_ward(teams)
    outbox, messengers = by_hand(teams), teams.app[MESSENGERS]
    await outbox.enqueue(Destination("teams", WARD_CHANNEL), note("Reminder."))
    teams.connector.fail_next(503)
    assert await outbox.deliver_due(messengers) == 0
    async with teams.app[DATABASE].transaction() as session:
        row = (await session.scalars(NEWEST_MESSAGE)).one()
        assert (row.status, row.last_error) == (
            "pending",
            "Bot Framework connector answered HTTP 503",
        )
        await session.execute(
            update(OutboxMessage).values(next_attempt_at=utc_now() - timedelta(seconds=1))
        )
    assert await outbox.deliver_due(messengers) == 1


async def test_failed_card_update_is_retried_by_the_outbox_not_the_sdk(teams: TeamsWorld) -> None:
    next_version = await card_posted(teams, "ticket:KLS-2026-00002:card")
    teams.connector.fail_next(503, times=5)
    assert await next_version("Status: Claimed") == 0
    puts = [c for c in teams.connector.calls if c.method == "PUT"]
    assert [c.status for c in puts] == [503]  # one attempt, no hidden retries in the SDK


async def test_message_to_a_conversation_the_bot_was_removed_from_fails_permanently(
    teams: TeamsWorld,
) -> None:
    await welcome_in_ward(teams)
    await by_hand(teams).enqueue(Destination("teams", WARD_CHANNEL), note("Reminder."))
    teams.connector.fail_next(403)
    assert await by_hand(teams).deliver_due(teams.app[MESSENGERS]) == 0
    async with teams.app[DATABASE].transaction() as session:
        row = (await session.scalars(NEWEST_MESSAGE)).one()
    assert row.status == "failed"
    assert row.last_error is not None and "403" in row.last_error


async def test_outbox_message_to_an_unknown_conversation_fails_permanently(
    teams: TeamsWorld,
) -> None:
    await by_hand(teams).enqueue(Destination("teams", "19:never-seen@thread.tacv2"), note("x"))
    assert await by_hand(teams).deliver_due(teams.app[MESSENGERS]) == 0
    async with teams.app[DATABASE].transaction() as session:
        row = (await session.scalars(NEWEST_MESSAGE)).one()
        failed = await session.scalar(select(func.count()).where(OutboxMessage.status == "failed"))
    assert failed == 1
    assert row.last_error is not None and "no Teams conversation reference" in row.last_error
    assert teams.connector.calls == []


async def test_an_emergency_in_a_personal_chat_gets_999_signposting_and_no_buttons(
    teams: TeamsWorld,
) -> None:
    (reply,) = await teams.say(teams.activity(text="my son is having a fit and it won't stop"))
    assert "call 999 now" in reply.text and "NHS 111" in reply.text and "A&E" in reply.text
    assert "when-to-call-999" in reply.text
    assert not reply.card.get("actions")
