"""Evidence Desk in Slack, driven by real signed requests over HTTP; the Slack Web API is a
local fake that records what the bot sends."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, text, update

from bot.clock import utc_now
from bot.db.models import OutboxMessage
from bot.keys import DATABASE, WORKER
from tests.fakes.drain import until
from tests.scenario.conftest import LIBRARY, REQUESTER, SPECIALIST, WARD, SlackWorld, signed_headers
from tests.scenario.slack_payloads import (
    all_text,
    button,
    select_value,
    text_value,
    view_submission,
)
from tests.signed import form_state

VALID_NHS = "943 476 5919"


async def test_mention_is_answered_in_its_thread_with_source_and_feedback(
    slack: SlackWorld,
) -> None:
    await slack.mention("forgot my athens password", "Ev001")
    (post,) = await slack.posts()
    assert post["channel"] == WARD
    assert post["thread_ts"] == "1700000000.000100"
    blocks = all_text(post["blocks"])
    assert "OpenAthens" in blocks and "Source:" in blocks
    assert "faq_helpful" in blocks and "faq_not_helpful" in blocks


async def test_retried_event_is_answered_once(slack: SlackWorld) -> None:
    first, later = "1700000000.000100", "1700000000.000200"
    await slack.mention("library opening hours", "Ev002", ts=first)
    event = {"type": "app_mention", "user": REQUESTER, "channel": WARD, "ts": first,
             "text": "<@UBOTUSER> library opening hours"}  # fmt: skip
    assert await slack.post_event(event, "Ev002", retry=1) == 200
    await slack.mention("thanks", "Ev003", ts=later)  # a new event id is still answered
    assert len(await slack.posts(WARD, thread=first)) == 1
    assert len(await slack.posts(WARD, thread=later)) == 1


async def test_request_with_a_bad_signature_is_refused(slack: SlackWorld) -> None:
    body = json.dumps(
        {"type": "event_callback", "event_id": "Ev9", "event": {"type": "app_mention"}}
    )
    headers = {"Content-Type": "application/json", **signed_headers(body, secret="wrong")}
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401


async def test_stale_signed_request_is_refused(slack: SlackWorld) -> None:
    body = json.dumps(
        {"type": "event_callback", "event_id": "Ev10", "event": {"type": "app_mention"}}
    )
    headers = {"Content-Type": "application/json", **signed_headers(body, timestamp=1_600_000_000)}
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401


async def test_url_verification_is_answered(slack: SlackWorld) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    response = await slack.client.post(
        "/slack/events",
        data=body,
        headers={"Content-Type": "application/json", **signed_headers(body)},
    )
    assert response.status == 200
    assert "abc123" in await response.text()


async def test_direct_message_is_answered_in_the_dm(slack: SlackWorld) -> None:
    event = {"type": "message", "channel_type": "im", "user": REQUESTER, "channel": "D0DM",
             "ts": "1700000001.000100", "text": "how do I renew my library books"}  # fmt: skip
    assert await slack.post_event(event, "Ev004") == 200
    (post,) = await slack.posts()
    assert post["channel"] == "D0DM"
    assert "thread_ts" not in post or not post["thread_ts"]


async def test_ordinary_channel_chatter_is_ignored(slack: SlackWorld) -> None:
    event = {"type": "message", "channel_type": "channel", "user": REQUESTER, "channel": WARD,
             "ts": "1700000002.000100", "text": "anyone seen my stethoscope"}  # fmt: skip
    assert await slack.post_event(event, "Ev005") == 200
    await slack.mention("hello", "Ev006", ts="1700000003.000100")
    (post,) = await slack.posts()  # every post, once all is handled
    assert (post["channel"], post["thread_ts"]) == (WARD, "1700000003.000100")


async def test_slash_command_answers_privately(slack: SlackWorld) -> None:
    status, _ = await slack.post_form(
        {"command": "/evidence", "text": "library opening hours", "user_id": REQUESTER,
         "channel_id": WARD, "trigger_id": "trig-3", "team_id": "T0TEAM",
         "response_url": slack.api.response_url()}
    )  # fmt: skip
    assert status == 200
    (response,) = await slack.api.wait_for("response_url")
    assert response["response_type"] == "ephemeral"
    assert "library-opening-hours" in json.dumps(response["blocks"])  # the entry's feedback id


async def test_slash_command_request_opens_a_prefilled_modal(slack: SlackWorld) -> None:
    await slack.post_form(
        {"command": "/evidence", "text": "request falls prevention in care homes", "user_id": REQUESTER,
         "channel_id": WARD, "trigger_id": "trig-4", "team_id": "T0TEAM",
         "response_url": slack.api.response_url()}
    )  # fmt: skip
    (opened,) = await slack.api.wait_for("views.open")
    view = opened["view"]
    assert opened["trigger_id"] == "trig-4"
    assert view["callback_id"] == "request_submit"
    question = next(b for b in view["blocks"] if b.get("block_id") == "question")
    assert question["element"]["initial_value"] == "falls prevention in care homes"


async def test_search_request_in_a_channel_offers_the_form(slack: SlackWorld) -> None:
    await slack.mention("can you find papers on delirium screening in ICU by Friday?", "Ev007")
    (post,) = await slack.posts()
    assert "request_open" in all_text(post["blocks"])
    status, _ = await slack.post_interaction(
        button("request_open|0", "delirium screening in ICU", REQUESTER)
    )
    assert status == 200
    (opened,) = await slack.api.wait_for("views.open")
    assert json.loads(opened["view"]["private_metadata"])["c"] == WARD


async def test_form_with_an_nhs_number_comes_back_with_field_errors_and_nothing_is_stored(
    slack: SlackWorld,
) -> None:
    await slack.post_form(
        {"command": "/evidence", "text": "request", "user_id": REQUESTER, "channel_id": WARD,
         "trigger_id": "trig-5", "team_id": "T0TEAM", "response_url": slack.api.response_url()}
    )  # fmt: skip
    (opened,) = await slack.api.wait_for("views.open")
    submission = view_submission(
        "request_submit",
        {"question": text_value(f"falls for patient {VALID_NHS}"),
         "purpose": select_value("research")},
        opened["view"]["private_metadata"],
    )  # fmt: skip
    submission["view"]["blocks"] = opened["view"]["blocks"]  # the modal as Slack holds it
    status, body = await slack.post_interaction(submission)
    assert status == 200
    answer = json.loads(body)
    # Slack's own inline errors, beside the field and on the "remove them and send" choice,
    # each keyed by a block the open modal has (Slack refuses errors for any other).
    assert answer["response_action"] == "errors"
    assert "NHS number" in answer["errors"]["question"]
    assert "taken out" in answer["errors"]["privacy_ack"]
    assert set(answer["errors"]) <= {b.get("block_id") for b in opened["view"]["blocks"]}
    assert "5919" not in json.dumps(answer)
    async with slack.app[DATABASE].engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM tickets"))).scalar() == 0


async def test_choosing_remove_them_and_send_stores_the_request_redacted(
    slack: SlackWorld,
) -> None:
    state = form_state(WARD, "1700000000.000100")
    values = {
        "question": text_value(f"falls for patient {VALID_NHS}"),
        "purpose": select_value("research"),
        "privacy_ack": {"input": {"type": "checkboxes",
                                  "selected_options": [{"value": "remove_and_send"}]}},
    }  # fmt: skip
    status, body = await slack.post_interaction(view_submission("request_submit", values, state))
    assert status == 200 and body in ("", "{}")
    async with slack.app[DATABASE].engine.connect() as connection:
        question = (await connection.execute(text("SELECT question FROM tickets"))).scalar()
    assert question is not None and "5919" not in question and "removed" in question


async def test_missing_purpose_is_an_inline_field_error(slack: SlackWorld) -> None:
    state = form_state(WARD, None)
    values = {
        "question": text_value("falls"),
        "purpose": {"input": {"type": "static_select", "selected_option": None}},
    }
    _, body = await slack.post_interaction(view_submission("request_submit", values, state))
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "purpose" in answer["errors"]


async def test_request_story_from_form_to_delivery(slack: SlackWorld) -> None:
    thread = "1700000000.000100"
    state = form_state(WARD, thread)
    status, body = await slack.post_interaction(
        view_submission("request_submit", {"question": text_value("falls prevention in older inpatients"),
                                           "purpose": select_value("service_development")}, state)
    )  # fmt: skip
    assert status == 200 and body in ("", "{}")
    posts = await slack.posts(at_least=2)
    assert len(posts) == 2
    card = next(p for p in posts if p["channel"] == LIBRARY)
    confirmation = next(p for p in posts if p["channel"] == WARD)
    assert confirmation["thread_ts"] == thread
    reference = next(
        word.strip("*:") for word in confirmation["text"].split() if word.startswith("KLS-")
    )
    assert "ticket_claim" in all_text(card["blocks"])

    await slack.post_interaction(
        button(
            "ticket_claim|0",
            reference,
            SPECIALIST,
            channel=LIBRARY,
            response_url=slack.api.response_url(),
        )
    )
    (claimed,) = await slack.api.wait_for("response_url")
    assert "You have claimed" in claimed["text"]
    (update,) = await slack.api.wait_for("chat.update")
    assert "Sam Librarian" in all_text(update["blocks"])

    await slack.post_interaction(
        view_submission(
            "ticket_ask_submit",
            {"question": text_value("Adults over 65 only?")},
            reference,
            user=SPECIALIST,
        )
    )
    posts = await slack.posts(at_least=4)
    assert len(posts) == 4
    assert any(
        "Adults over 65 only?" in p["text"] + all_text(p["blocks"])
        for p in posts
        if p["channel"] == WARD
    )

    reply = {"type": "message", "channel_type": "channel", "user": REQUESTER, "channel": WARD,
             "ts": "1700000009.000100", "thread_ts": thread, "text": "Yes, over 65s please"}  # fmt: skip
    assert await slack.post_event(reply, "Ev020") == 200
    posts = await slack.posts(at_least=6)
    assert len(posts) == 6
    relayed = [p for p in posts if "Yes, over 65s please" in all_text(p["blocks"])]
    assert relayed[0]["channel"] == LIBRARY
    assert relayed[0]["thread_ts"] == update["ts"]  # under the specialist's card

    await slack.post_interaction(
        view_submission("ticket_complete_submit", {"summary": text_value("Three systematic reviews attached."),
                                                   "links": text_value("https://library.example.nhs.uk/r/1")},
                        reference, user=SPECIALIST)
    )  # fmt: skip
    posts = await slack.posts(at_least=7)
    assert len(posts) == 7
    delivered = [
        p
        for p in posts
        if p["channel"] == WARD and "Three systematic reviews" in all_text(p["blocks"])
    ]
    assert delivered and "ticket_impact" in all_text(delivered[0]["blocks"])


async def test_rate_limited_post_is_delivered_once_after_retry_after(slack: SlackWorld) -> None:
    slack.api.fail_next("chat.postMessage", 429, retry_after=30)
    await slack.mention("library opening hours", "Ev030")
    database = slack.app[DATABASE]

    async def refused() -> OutboxMessage | None:
        async with database.transaction() as session:
            return await session.scalar(
                select(OutboxMessage).where(OutboxMessage.last_error.is_not(None))
            )

    row = await until(refused)
    assert slack.api.refused == {"chat.postMessage": 1}  # the 429
    waited = row.next_attempt_at - utc_now()
    assert timedelta(seconds=25) < waited <= timedelta(seconds=30)  # Slack's, not our backoff
    assert slack.api.of("chat.postMessage") == []
    async with database.transaction() as session:  # those 30 seconds pass
        await session.execute(update(OutboxMessage).values(next_attempt_at=utc_now()))
    slack.app[WORKER].kick()
    assert len(await slack.posts(WARD, thread="1700000000.000100")) == 1


async def test_slack_outage_delays_but_delivers_once(slack: SlackWorld) -> None:
    slack.api.fail_next("chat.postMessage", 500, times=2)
    await slack.mention("library opening hours", "Ev031")
    assert len(await slack.posts(WARD)) == 1
    assert slack.api.refused == {"chat.postMessage": 2}


async def test_signed_but_malformed_payload_is_a_client_error(slack: SlackWorld) -> None:
    status, _ = await slack.post_form({"payload": "{not json"})
    assert 400 <= status < 500


async def test_nhs_number_in_a_mention_gets_a_private_warning(slack: SlackWorld) -> None:
    await slack.mention(f"find evidence on sepsis for {VALID_NHS}", "Ev040")
    (warning,) = await slack.api.wait_for("chat.postEphemeral")
    assert warning["user"] == REQUESTER
    assert "NHS number" in warning["text"]
    (post,) = await slack.posts()
    assert "5919" not in json.dumps(post)


async def test_app_home_shows_a_specialists_queue(slack: SlackWorld) -> None:
    event = {"type": "app_home_opened", "user": SPECIALIST, "channel": "D0HOME", "tab": "home"}
    assert await slack.post_event(event, "Ev050") == 200
    (published,) = await slack.api.wait_for("views.publish")
    assert published["user_id"] == SPECIALIST
    assert "Your queue" in json.dumps(published["view"])


async def test_message_shortcut_opens_a_request_prefilled_with_the_message(
    slack: SlackWorld,
) -> None:
    status, _ = await slack.post_interaction(
        {"type": "message_action", "callback_id": "send_to_specialist", "trigger_id": "trig-9",
         "team": {"id": "T0TEAM"}, "user": {"id": REQUESTER}, "channel": {"id": WARD},
         "message": {"ts": "1700000005.000100", "text": "has anyone got evidence on music for agitation?"},
         "response_url": slack.api.response_url()}
    )  # fmt: skip
    assert status == 200
    (opened,) = await slack.api.wait_for("views.open")
    question = next(b for b in opened["view"]["blocks"] if b.get("block_id") == "question")
    assert "music for agitation" in question["element"]["initial_value"]
    state = json.loads(opened["view"]["private_metadata"])
    assert (state["c"], state["t"]) == (WARD, "1700000005.000100")


async def test_global_shortcut_opens_an_empty_request_form(slack: SlackWorld) -> None:
    status, _ = await slack.post_interaction(
        {"type": "shortcut", "callback_id": "new_evidence_request", "trigger_id": "trig-10",
         "team": {"id": "T0TEAM"}, "user": {"id": REQUESTER}}
    )  # fmt: skip
    assert status == 200
    (opened,) = await slack.api.wait_for("views.open")
    assert opened["view"]["callback_id"] == "request_submit"


async def test_unknown_payload_type_is_a_client_error(slack: SlackWorld) -> None:
    status, _ = await slack.post_interaction({"type": "no_such_thing", "team": {"id": "T0TEAM"}})
    assert 400 <= status < 500


async def test_an_emergency_mentioned_in_a_channel_gets_999_signposting_and_no_ticket(
    slack: SlackWorld,
) -> None:
    await slack.mention("my colleague has collapsed and isn't breathing, what do I do", "Ev090")
    (post,) = await slack.api.wait_for("chat.postMessage")
    shown = all_text(post["blocks"])
    assert "call 999 now" in shown and "NHS 111" in shown and "A&amp;E" in shown
    assert "when-to-call-999" in shown
    assert "request_open" not in shown
    async with slack.app[DATABASE].engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM tickets"))).scalar() == 0
