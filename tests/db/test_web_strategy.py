"""The search-strategy starter in the web chat's specialist view, over HTTP as the page drives
it, on both databases: on the card, opened as an editable draft, never in the requester's chat."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.db.test_web_workflow import CHAT, REQUESTER, SPECIALIST, act, feed, request_in_chat

FALLS = "Accidental Falls (high) https://meshb.nlm.nih.gov/record/ui?ui=D000058"


async def test_the_specialist_view_opens_the_starter_and_the_requester_never_sees_it(
    client: TestClient[Any, Any],
) -> None:
    reference = await request_in_chat(client)
    assert 'data-action=\\"ticket_strategy\\"' in await feed(client, SPECIALIST)

    opened = await act(client, action="ticket_strategy", value=reference, user=SPECIALIST,
                       conversation=SPECIALIST)  # fmt: skip
    assert opened["form"]["form_id"] == "ticket_strategy_submit"
    assert FALLS in json.dumps(opened["form"])
    assert "D000058" not in await feed(client, CHAT)


async def test_the_requester_cannot_open_the_starter(client: TestClient[Any, Any]) -> None:
    reference = await request_in_chat(client)
    refused = await act(client, action="ticket_strategy", value=reference, user=REQUESTER,
                        conversation=CHAT)  # fmt: skip
    assert "form" not in refused or not refused["form"]
    assert "D000058" not in json.dumps(refused)
