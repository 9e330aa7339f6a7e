"""The request story as a person lives it in the web chat, over HTTP: what they type, the
buttons they press and the forms they send, and what comes back to the page."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from tests.fakes.settle import settle

Client = TestClient[Any, Any]
ME, CHAT, SPECIALIST = "web-requester1", "web-chat", "specialist"
_BUTTON = re.compile(r'data-action="([a-z_]+)" data-value="([^"]*)"')
_STATE = re.compile(r'data-state="([^"]*)"')


def unescape(value: str) -> str:
    import html

    return html.unescape(value)


async def say(client: Client, text: str, user: str = ME) -> list[dict[str, Any]]:
    response = await client.post(
        "/chat/api/message", json={"text": text, "user": user, "conversation": CHAT, "thread": user}
    )
    assert response.status == 200, await response.text()
    return list((await response.json())["replies"])


async def press(
    client: Client, action: str, value: str = "", user: str = ME, conversation: str = CHAT,
    thread: str | None = ME, **values: str,
) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"action": action, "value": value, "user": user,
                            "conversation": conversation, "thread": thread}  # fmt: skip
    if values:
        body["values"] = values
    response = await client.post("/chat/api/action", json=body)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def send_form(
    client: Client, form_html: str, action: str, user: str = ME, conversation: str = CHAT,
    thread: str | None = ME, **values: str,
) -> dict[str, Any]:  # fmt: skip
    state = _STATE.search(form_html)
    response = await client.post(
        "/chat/api/action",
        json={"action": action, "values": values, "user": user, "conversation": conversation,
              "thread": thread, "form_state": unescape(state.group(1)) if state else ""},
    )  # fmt: skip
    assert response.status == 200, await response.text()
    return dict(await response.json())


def buttons(html: str) -> dict[str, str]:
    return {action: unescape(value) for action, value in _BUTTON.findall(html)}


async def messages(client: Client, conversation: str, thread: str | None) -> list[str]:
    """What the bot has said there, once everything sent so far has been delivered."""
    assert client.app is not None
    await settle(client.app)
    query = f"/chat/api/messages?conversation={conversation}" + (
        f"&thread={thread}" if thread else ""
    )
    response = await client.get(query)
    return [m["html"] for m in (await response.json())["messages"] if m["author"] is None]


async def request_form(client: Client, text: str) -> str:
    (answer,) = await say(client, text)
    value = buttons(answer["html"])["request_open"]
    opened = await press(client, "request_open", value)
    return str(opened["form"]["html"])


async def test_a_deadline_in_the_message_prefills_the_forms_deadline(client: Client) -> None:
    form = await request_form(client, "can you find evidence on falls prevention by Friday")
    deadline = re.search(
        r'name="deadline"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="deadline"', form
    )
    assert deadline, form
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", deadline.group(1) or deadline.group(2))


async def delivered_request(client: Client, attachment: str = "") -> str:
    """A request made in the chat, claimed and completed in the specialist view; the
    requester's delivery message, as the page shows it."""
    form = await request_form(client, "can you find evidence on falls prevention")
    sent = await send_form(client, form, "request_submit", question="Falls prevention in wards",
                           purpose="service_development")  # fmt: skip
    assert sent["form"] is None, sent["form"]
    cards = await messages(client, SPECIALIST, None)
    reference = buttons(cards[-1])["ticket_claim"]
    await press(client, "ticket_claim", reference, SPECIALIST, SPECIALIST, None)
    opened = await press(client, "ticket_complete", reference, SPECIALIST, SPECIALIST, None)
    done = await send_form(client, opened["form"]["html"], "ticket_complete_submit", SPECIALIST,
                           SPECIALIST, None, summary="Three reviews found.",
                           links="https://library.example.nhs.uk/results/1",
                           attachment=attachment)  # fmt: skip
    assert done["form"] is None, done["form"]
    (delivery,) = [m for m in await messages(client, CHAT, ME) if "Three reviews found." in m]
    return delivery


async def test_the_specialists_attached_file_reaches_the_requester(client: Client) -> None:
    delivery = await delivered_request(client, attachment="falls-review-2026.pdf")
    assert "falls-review-2026.pdf" in delivery


async def test_an_invalid_impact_answer_keeps_the_others(client: Client) -> None:
    delivery = await delivered_request(client)
    reference = buttons(delivery)["ticket_impact"]
    opened = await press(client, "ticket_impact", reference)
    again = await send_form(client, opened["form"]["html"], "ticket_impact_submit", helped="yes",
                            how_used="patient_care_decision", time_saved_hours="lots",
                            comment="Used it at the ward meeting")  # fmt: skip
    form = again["form"]["html"]
    assert "Please give a number of hours" in form
    assert "Used it at the ward meeting" in form
    assert 'value="lots"' in form
    assert re.search(r'value="yes"[^>]*checked|checked[^>]*value="yes"', form)
    assert re.search(
        r'value="patient_care_decision"[^>]*checked|checked[^>]*value="patient_care_decision"', form
    )


async def test_reloading_the_chat_shows_the_whole_conversation(client: Client) -> None:
    await say(client, "library opening hours")
    await say(client, "how do I get an OpenAthens account")
    assert client.app is not None
    await settle(client.app)
    reloaded = await client.get(f"/chat/api/messages?conversation={CHAT}&thread={ME}")
    shown = [(m["author"], m.get("text") or m["html"]) for m in (await reloaded.json())["messages"]]
    assert [author for author, _ in shown] == ["person", None, "person", None]
    assert shown[0][1] == "library opening hours"
    assert shown[2][1] == "how do I get an OpenAthens account"
    assert "OpenAthens" in shown[3][1]


async def test_the_persons_own_messages_are_stored_redacted(client: Client) -> None:
    await say(client, "library opening hours, my patient is NHS number 943 476 5919")
    reloaded = await client.get(f"/chat/api/messages?conversation={CHAT}&thread={ME}")
    texts = [m.get("text") or m["html"] for m in (await reloaded.json())["messages"]]
    assert texts and texts[0].startswith("library opening hours")
    assert not any("943 476 5919" in t or "9434765919" in t for t in texts)


async def requested(client: Client) -> str:
    form = await request_form(client, "can you find evidence on falls prevention")
    await send_form(client, form, "request_submit", question="Falls prevention in wards",
                    purpose="service_development")  # fmt: skip
    cards = await messages(client, SPECIALIST, None)
    return buttons(cards[-1])["ticket_claim"]


async def test_a_specialists_question_tells_a_web_requester_to_answer_in_the_chat(
    client: Client,
) -> None:
    reference = await requested(client)
    await press(client, "ticket_claim", reference, SPECIALIST, SPECIALIST, None)
    opened = await press(client, "ticket_ask", reference, SPECIALIST, SPECIALIST, None)
    await send_form(client, opened["form"]["html"], "ticket_ask_submit", SPECIALIST, SPECIALIST,
                    None, question="Adults only?")  # fmt: skip
    (asked,) = [m for m in await messages(client, CHAT, ME) if "Adults only?" in m]
    assert "type your answer in the chat" in asked
    assert "thread" not in asked


async def test_the_specialists_card_names_the_requester_not_their_id(client: Client) -> None:
    await requested(client)
    card = (await messages(client, SPECIALIST, None))[-1]
    assert "From: a web chat visitor (web chat)" in card
    assert ME not in card


async def test_the_web_home_view_speaks_of_the_chat_not_slack_commands(client: Client) -> None:
    home = await client.get(f"/chat/api/home?user={ME}")
    (mine, *_) = (await home.json())["sections"]
    assert "You have not made any requests yet." in mine["html"]
    assert "/evidence" not in mine["html"] and "Mention me" not in mine["html"]


async def test_listen_on_in_the_web_chat_says_what_it_means_here(client: Client) -> None:
    (answer,) = await say(client, "listen on")
    assert "just type your question" in answer["html"]
    assert "mention me" not in answer["html"]


async def test_a_message_sent_again_is_kept_once_in_the_history(client: Client) -> None:
    body = {"text": "library opening hours", "user": ME, "conversation": CHAT, "thread": ME,
            "message_id": "m-resent-1"}  # fmt: skip
    first = await client.post("/chat/api/message", json=body)
    again = await client.post("/chat/api/message", json=body)
    assert (await first.json())["sent"]["id"] == (await again.json())["sent"]["id"]
    assert client.app is not None
    await settle(client.app)
    reloaded = await client.get(f"/chat/api/messages?conversation={CHAT}&thread={ME}")
    authors = [m["author"] for m in (await reloaded.json())["messages"]]
    assert authors == ["person", None]
