"""The specialist's whole workflow in Slack, from every entry point: signed requests in, the
fake Web API recording what the desk says and where."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import utc_now
from bot.desk.tickets.service import TicketService
from bot.keys import DATABASE, DESK
from handlers.escalations import run_escalations
from tests.fakes.settle import settle
from tests.scenario.conftest import LIBRARY, REQUESTER, SPECIALIST, WARD, SlackWorld
from tests.scenario.slack_payloads import (
    all_text,
    button,
    select_value,
    text_value,
    view_submission,
)
from tests.signed import form_state
from tests.web_admin import add_admin, sign_in

THREAD = "1700000000.000100"


def said(post: dict[str, Any]) -> str:
    return str(post.get("text", "")) + all_text(post.get("blocks") or [])


async def make_request(
    slack: SlackWorld, channel: str = WARD, thread: str | None = THREAD, question: str = ""
) -> str:
    """The requester sends the request form (opened in `channel`/`thread`); its reference."""
    state = form_state(channel, thread)
    values = {
        "question": text_value(question or "falls prevention in older inpatients"),
        "purpose": select_value("service_development"),
    }
    status, _ = await slack.post_interaction(view_submission("request_submit", values, state))
    assert status == 200
    await settle(slack.app)
    confirmation = next(p for p in slack.api.of("chat.postMessage") if "KLS-" in p["text"])
    words = (w.strip("*:.,") for w in confirmation["text"].split())
    return next(w for w in words if w.startswith("KLS-"))


async def press(slack: SlackWorld, action: str, reference: str, user: str = SPECIALIST) -> None:
    """Press a button on the card, and wait for its answer to the presser (Slack has been
    acknowledged before the desk acts): a private reply or a form."""

    def answered() -> int:
        return len(slack.api.of("response_url")) + len(slack.api.of("views.open"))

    before = answered()
    status, _ = await slack.post_interaction(
        button(
            f"{action}|0", reference, user, channel=LIBRARY, response_url=slack.api.response_url()
        )
    )
    assert status == 200
    await slack.api.wait_until(lambda: answered() > before)
    await settle(slack.app)


async def submit(
    slack: SlackWorld, form: str, values: dict[str, str], reference: str, user: str = SPECIALIST
) -> dict[str, Any]:
    fields = {name: text_value(value) for name, value in values.items()}
    status, body = await slack.post_interaction(view_submission(form, fields, reference, user=user))
    assert status == 200
    await settle(slack.app)
    return json.loads(body) if body not in ("", "{}") else {}


QUEUE = "C0QUEUE"


@pytest.fixture
def general_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Named before `slack`: the desk then has a general queue, where requests from
    unrouted places (a DM) go."""
    monkeypatch.setenv("EVIDENCE_DESK_GENERAL_QUEUE", f"slack:{QUEUE}")


async def tickets(slack: SlackWorld) -> TicketService:
    return slack.app[DESK].requests.tickets


# ---- 1. internal notes -----------------------------------------------------------------------


async def test_add_note_opens_a_form_and_the_note_goes_only_under_the_card(
    slack: SlackWorld,
) -> None:
    reference = await make_request(slack)
    card = next(p for p in slack.api.of("chat.postMessage") if p["channel"] == LIBRARY)
    assert "ticket_note" in all_text(card["blocks"])
    await press(slack, "ticket_note", reference)
    (opened,) = slack.api.of("views.open")
    assert opened["view"]["callback_id"] == "ticket_note_submit"

    await submit(
        slack, "ticket_note_submit", {"note": "Check the Cochrane review first"}, reference
    )

    posts = slack.api.of("chat.postMessage")
    noted = [p for p in posts if "Check the Cochrane review first" in said(p)]
    assert [(p["channel"], p["thread_ts"]) for p in noted] == [
        (LIBRARY, slack.api.messages[LIBRARY][0]["ts"])
    ]
    everywhere = json.dumps(
        [c.params for c in slack.api.calls if c.params.get("channel") != LIBRARY]
    )
    assert "Cochrane" not in everywhere  # never to the requester, in any form
    (note,) = [m for m in await (await tickets(slack)).messages(reference) if m.is_internal]
    assert note.text == "Check the Cochrane review first"


async def test_a_specialists_message_in_the_cards_thread_is_kept_as_an_internal_note(
    slack: SlackWorld,
) -> None:
    reference = await make_request(slack)
    card = slack.api.messages[LIBRARY][0]["ts"]
    said_there = {"type": "message", "channel_type": "channel", "user": SPECIALIST,
                  "channel": LIBRARY, "ts": "1800000200.000100", "thread_ts": card,
                  "text": "Try CINAHL as well"}  # fmt: skip
    assert await slack.post_event(said_there, "EvNote1") == 200
    await settle(slack.app)

    (note,) = [m for m in await (await tickets(slack)).messages(reference) if m.is_internal]
    assert note.text == "Try CINAHL as well"
    (told,) = slack.api.of("chat.postEphemeral")
    assert told["user"] == SPECIALIST and "internal note" in told["text"]
    assert not [c for c in slack.api.calls if "CINAHL" in json.dumps(c.params)]


async def test_a_note_from_someone_who_is_not_a_specialist_is_refused_and_not_stored(
    slack: SlackWorld,
) -> None:
    reference = await make_request(slack)
    answer = await submit(
        slack, "ticket_note_submit", {"note": "sneaky"}, reference, user=REQUESTER
    )
    assert "knowledge specialists" in json.dumps(answer)
    assert not [m for m in await (await tickets(slack)).messages(reference) if m.is_internal]


# ---- 2. a request made with /evidence request in a channel -------------------------------------


async def test_replies_under_the_question_in_a_channel_are_each_relayed(slack: SlackWorld) -> None:
    reference = await make_request(slack, thread=None)  # a slash command has no thread
    await press(slack, "ticket_claim", reference)
    await submit(slack, "ticket_ask_submit", {"question": "Adults over 65 only?"}, reference)
    question = next(m for m in slack.api.messages[WARD] if "Adults over 65 only?" in m["text"])

    for number, text in enumerate(("Yes, over 65s please", "And community too")):
        reply = {"type": "message", "channel_type": "channel", "user": REQUESTER, "channel": WARD,
                 "ts": f"1800000099.00010{number}", "thread_ts": question["ts"], "text": text}  # fmt: skip
        assert await slack.post_event(reply, f"EvReply{number}") == 200
        await settle(slack.app)

    relayed = [p for p in slack.api.of("chat.postMessage") if "Reply from the requester" in said(p)]
    assert [p["channel"] for p in relayed] == [LIBRARY, LIBRARY]
    assert "over 65s" in said(relayed[0]) and "community too" in said(relayed[1])
    ticket = await (await tickets(slack)).get(reference)
    assert ticket.status.value == "in_progress"


# ---- 3. a request made from the global shortcut ------------------------------------------------


async def test_a_dm_reply_to_a_question_about_a_shortcut_request_is_relayed(
    general_queue: None, slack: SlackWorld
) -> None:
    reference = await make_request(slack, channel=REQUESTER, thread=None)  # no channel: the user
    await press(slack, "ticket_claim", reference)
    await submit(slack, "ticket_ask_submit", {"question": "Which ward?"}, reference)
    dm = "D" + REQUESTER[1:]  # where Slack put the question (chat.postMessage's channel)
    assert any("Which ward?" in m["text"] for m in slack.api.messages[dm])

    reply = {"type": "message", "channel_type": "im", "user": REQUESTER, "channel": dm,
             "ts": "1800000100.000100", "text": "Ward 7, elderly care"}  # fmt: skip
    assert await slack.post_event(reply, "EvDm1") == 200
    await settle(slack.app)

    posts = slack.api.of("chat.postMessage")
    (relayed,) = [p for p in posts if "Ward 7, elderly care" in said(p)]
    assert relayed["channel"] == QUEUE
    answer = [p for p in posts if p["channel"] == dm and "passed that on" in said(p)]
    assert answer and not [p for p in posts if "can't help" in said(p)]
    assert (await (await tickets(slack)).get(reference)).status.value == "in_progress"


# ---- 5. every message carrying a ticket's buttons follows the ticket ----------------------------


async def test_claiming_from_an_escalation_updates_the_escalation_message_too(
    slack: SlackWorld,
) -> None:
    reference = await make_request(slack)
    desk = slack.app[DESK]
    raised = await run_escalations(
        slack.app[DATABASE], desk.requests, utc_now() + timedelta(days=7), 8
    )
    assert any(e.reference == reference and e.kind.value == "unclaimed" for e in raised)
    await settle(slack.app)
    escalation = next(
        p for p in slack.api.of("chat.postMessage") if "has not been claimed" in said(p)
    )
    assert "ticket_claim" in all_text(escalation["blocks"])

    await press(slack, "ticket_claim", reference)

    updates = slack.api.of("chat.update")
    escalation_ts = next(m["ts"] for m in slack.api.messages[escalation["channel"]]
                         if "has not been claimed" in m["text"])  # fmt: skip
    (updated,) = [u for u in updates if u["ts"] == escalation_ts]
    assert "ticket_claim" not in all_text(updated["blocks"])
    assert "Sam Librarian" in said(updated)
    card = [u for u in updates if u["ts"] != escalation_ts]
    assert card and all("ticket_claim" not in all_text(u["blocks"]) for u in card)


# ---- every step from Slack ----------------------------------------------------------------------


async def test_unclaim_reassign_update_cancel_and_reopen_from_slack(slack: SlackWorld) -> None:
    service = await tickets(slack)
    reference = await make_request(slack)
    await press(slack, "ticket_claim", reference)
    await press(slack, "ticket_reassign", reference)  # unclaiming is one of its choices
    form = slack.api.of("views.open")[-1]["view"]
    options = next(b for b in form["blocks"] if b.get("block_id") == "specialist")["element"][
        "options"
    ]
    assert options[0]["value"] == "queue"
    values = {"specialist": select_value("queue")}
    await slack.post_interaction(
        view_submission("ticket_reassign_submit", values, reference, user=SPECIALIST)
    )
    await settle(slack.app)
    assert (await service.get(reference)).status.value == "new"
    assert (await service.get(reference)).assignee_name is None

    await press(slack, "ticket_reassign", reference)
    form = slack.api.of("views.open")[-1]["view"]
    assert form["callback_id"] == "ticket_reassign_submit"
    options = next(b for b in form["blocks"] if b.get("block_id") == "specialist")["element"][
        "options"
    ]
    chosen = next(o["value"] for o in options if o["text"]["text"] == "Sam Librarian")
    values = {"specialist": select_value(chosen)}
    await slack.post_interaction(
        view_submission("ticket_reassign_submit", values, reference, user=SPECIALIST)
    )
    await settle(slack.app)
    assert (await service.get(reference)).assignee_name == "Sam Librarian"

    await submit(slack, "ticket_update_submit", {"update": "Searching Medline now"}, reference)
    assert any(
        p["channel"] == WARD and "Searching Medline now" in said(p)
        for p in slack.api.of("chat.postMessage")
    )
    assert (await service.get(reference)).status.value == "in_progress"

    await submit(slack, "ticket_cancel_submit", {"reason": "duplicate of another"}, reference)
    assert (await service.get(reference)).status.value == "cancelled"
    told = [
        p
        for p in slack.api.of("chat.postMessage")
        if p["channel"] == WARD and "cancelled" in said(p)
    ]
    assert told and "duplicate" not in said(told[0])

    await press(slack, "ticket_reopen", reference)
    assert (await service.get(reference)).status.value in {"in_progress", "new"}
    last_card = slack.api.of("chat.update")[-1]
    assert "ticket_reopen" not in all_text(last_card["blocks"])


# ---- 4. a request with nowhere to go -------------------------------------------------------------


async def test_a_request_with_nowhere_to_go_is_told_the_truth_and_the_admins_are_alerted(
    slack: SlackWorld,
) -> None:
    reference = await make_request(slack, channel="C0UNROUTED", thread=None)

    posts = slack.api.of("chat.postMessage")
    assert not [p for p in posts if p["channel"] != "C0UNROUTED"]  # no card anywhere
    (told,) = [p for p in posts if p["channel"] == "C0UNROUTED"]
    assert "nobody has been notified" in said(told) and "admins have been alerted" in said(told)
    assert "is with" not in said(told)

    ready = await (await slack.client.get("/readyz")).json()
    assert ready["status"] == "ok"
    assert ready["checks"]["routing"].startswith("warning: 1 request(s) reached no specialist")
    metrics = await (await slack.client.get("/metrics")).text()
    assert "evidence_desk_requests_unrouted_total 1.0" in metrics

    await add_admin(slack.app[DATABASE])
    signed_in = await sign_in(slack.client)
    assert signed_in.status == 303
    console = await (await slack.client.get("/admin")).text()
    assert "Needs attention" in console and "1 request(s) reached no specialist" in console
    assert reference  # the requester has the reference to quote
