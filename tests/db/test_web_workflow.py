"""The specialist's workflow in the web chat's specialist view, over HTTP as the page drives it:
the requester's form in the chat, the demo specialist pressing the card's buttons and sending
its forms, on both databases."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from bot.keys import DESK
from tests.fakes.settle import settle
from tests.signed import form_state

REQUESTER, SPECIALIST, CHAT = "web-alice", "specialist", "web-chat"


async def act(client: TestClient[Any, Any], **body: Any) -> dict[str, Any]:
    response = await client.post("/chat/api/action", json=body)
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    assert client.app is not None
    await settle(client.app)
    return answer


async def feed(client: TestClient[Any, Any], conversation: str) -> str:
    """Everything shown in a conversation (every thread), as text."""
    response = await client.get("/chat/api/messages", params={"conversation": conversation})
    return json.dumps((await response.json())["messages"])


async def request_in_chat(client: TestClient[Any, Any]) -> str:
    await act(
        client, action="request_submit", user=REQUESTER, thread=REQUESTER, submission_id="s1",
        values={"question": "falls prevention in older inpatients", "purpose": "research"},
        form_state=form_state(CHAT, REQUESTER),
    )  # fmt: skip
    assert client.app is not None
    (ticket,) = await client.app[DESK].requests.tickets.list()
    return ticket.reference


async def test_a_note_from_the_specialist_view_stays_with_the_specialists(
    client: TestClient[Any, Any],
) -> None:
    reference = await request_in_chat(client)
    assert 'data-action=\\"ticket_note\\"' in await feed(client, SPECIALIST)  # on the card

    opened = await act(client, action="ticket_note", value=reference, user=SPECIALIST,
                       conversation=SPECIALIST)  # fmt: skip
    assert opened["form"]["form_id"] == "ticket_note_submit"
    done = await act(
        client, action="ticket_note_submit", user=SPECIALIST, conversation=SPECIALIST,
        form_state=reference, values={"note": "Check the Cochrane review first"},
    )  # fmt: skip
    assert "Note added" in json.dumps(done["reply"])

    assert "Check the Cochrane review first" in await feed(client, SPECIALIST)
    assert "Cochrane" not in await feed(client, CHAT)  # the requester's conversation


async def test_every_step_from_the_specialist_view(client: TestClient[Any, Any]) -> None:
    reference = await request_in_chat(client)
    assert client.app is not None
    tickets = client.app[DESK].requests.tickets

    async def press(action: str, form: str | None = None, **values: str) -> None:
        await act(client, action=action, value=reference, user=SPECIALIST, conversation=SPECIALIST)
        if form is not None:
            await act(client, action=form, user=SPECIALIST, conversation=SPECIALIST,
                      form_state=reference, values=values)  # fmt: skip

    await press("ticket_claim")
    await press("ticket_reassign", "ticket_reassign_submit", specialist="queue")
    assert (await tickets.get(reference)).status.value == "new"
    await press("ticket_claim")
    await press("ticket_ask", "ticket_ask_submit", question="Adults over 65 only?")
    assert "Adults over 65 only?" in await feed(client, CHAT)
    await press("ticket_update", "ticket_update_submit", update="Searching Medline now")
    assert "Searching Medline now" in await feed(client, CHAT)
    await press("ticket_complete", "ticket_complete_submit", summary="Three reviews")
    assert (await tickets.get(reference)).status.value == "completed"
    await press("ticket_reopen")
    await press("ticket_cancel", "ticket_cancel_submit", reason="duplicate")
    assert (await tickets.get(reference)).status.value == "cancelled"
    assert "duplicate" not in await feed(client, CHAT)
