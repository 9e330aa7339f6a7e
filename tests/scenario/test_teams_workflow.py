"""The specialist's workflow in Teams: Bot Framework activities in, the fake connector recording
what the desk sends. Alex asks from a personal chat; Sam works the request from the library's
channel (the general queue), pressing the card's buttons and filling its form cards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.clock import utc_now
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.keys import DATABASE, DESK
from handlers.escalations import run_escalations
from tests.fakes.bot_connector import ConnectorCall
from tests.fakes.settle import settle
from tests.teams_world import (
    PERSONAL,
    TENANT,
    WARD_CHANNEL,
    TeamsWorld,
    clean_request,
    open_form,
    submit_data,
    welcome_in_ward,
)

SAM = {"id": "29:sam-teams-id", "name": "Sam Librarian", "aadObjectId": "aad-sam"}


@pytest.fixture
def library_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Named before `teams`: requests from unrouted chats go to the library's channel."""
    monkeypatch.setenv("EVIDENCE_DESK_GENERAL_QUEUE", f"teams:{WARD_CHANNEL}")


def buttons(call: ConnectorCall) -> dict[str, dict[str, Any]]:
    return {a["data"]["action"]: a["data"] for a in call.card.get("actions") or [] if "data" in a}


def in_library(card_id: str | None = None) -> dict[str, Any]:
    """Where Sam presses: the library channel, in the card's reply chain."""
    conversation = WARD_CHANNEL + (f";messageid={card_id}" if card_id else "")
    return {
        "from": SAM,
        "conversation": {"id": conversation, "conversationType": "channel", "isGroup": True,
                         "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}, "teamsChannelId": WARD_CHANNEL,
                        "channel": {"id": WARD_CHANNEL}},
    }  # fmt: skip


async def request_with_a_card(teams: TeamsWorld) -> tuple[str, ConnectorCall]:
    """Sam is a specialist, the bot is in the library channel, Alex sends a request: its
    reference and the card posted for the specialists."""
    await RoutingService(teams.app[DATABASE]).add_specialist(
        NewSpecialist("Sam Librarian", identities=(Identity("teams", "aad-sam"),))
    )
    await welcome_in_ward(teams)
    form = await open_form(teams)
    calls = await teams.say(teams.submit(submit_data(form) | clean_request(), card_id="act-form"))
    card = next(c for c in calls if "ticket_claim" in buttons(c))
    assert card.conversation_id.startswith(WARD_CHANNEL)
    reference = buttons(card)["ticket_claim"]["value"]
    return str(reference), card


async def test_a_note_added_in_teams_goes_under_the_card_and_never_to_the_requester(
    library_queue: None, teams: TeamsWorld
) -> None:
    reference, card = await request_with_a_card(teams)
    press = buttons(card)["ticket_note"]
    (form,) = await teams.say(teams.submit(press, card_id=str(card.answered_id), **in_library()))
    assert submit_data(form)["action"] == "ticket_note_submit"

    note = {"in_note": "Check the Cochrane review first"}
    calls = await teams.say(
        teams.submit(submit_data(form) | note, card_id=str(form.answered_id), **in_library())
    )
    noted = [c for c in calls if "Check the Cochrane review first" in c.text]
    assert [c.conversation_id for c in noted] == [f"{WARD_CHANNEL};messageid={card.answered_id}"]
    to_alex = [c for c in teams.connector.calls if c.conversation_id == PERSONAL["id"]]
    assert to_alex and not [c for c in to_alex if "Cochrane" in c.text]
    (stored,) = [m for m in await teams.app[DESK].requests.tickets.messages(reference)
                 if m.is_internal]  # fmt: skip
    assert stored.text == "Check the Cochrane review first"


async def test_claiming_in_teams_updates_the_escalation_message_as_well_as_the_card(
    library_queue: None, teams: TeamsWorld
) -> None:
    _reference, card = await request_with_a_card(teams)
    desk = teams.app[DESK]
    await run_escalations(teams.app[DATABASE], desk.requests, utc_now() + timedelta(days=2), 8)
    await settle(teams.app)
    escalation = next(c for c in teams.connector.calls if "has not been claimed" in c.text)
    assert "ticket_claim" in buttons(escalation)

    press = buttons(escalation)["ticket_claim"]
    calls = await teams.say(
        teams.submit(press, card_id=str(escalation.answered_id), **in_library())
    )
    updated = {c.activity_id: c for c in calls if c.method == "PUT"}
    assert "ticket_claim" not in buttons(updated[str(escalation.answered_id)])
    assert "Sam Librarian" in updated[str(escalation.answered_id)].text
    assert "ticket_claim" not in buttons(updated[str(card.answered_id)])


async def test_every_step_from_teams_buttons_and_form_cards(
    library_queue: None, teams: TeamsWorld
) -> None:
    reference, card = await request_with_a_card(teams)
    tickets = teams.app[DESK].requests.tickets

    def card_now() -> ConnectorCall:
        """The card as it stands: its last version posted or put in place."""
        return [c for c in teams.connector.calls if c.ok and card.answered_id in
                (c.answered_id, c.activity_id) and c.card][-1]  # fmt: skip

    async def press(action: str, values: dict[str, str] | None = None) -> list[ConnectorCall]:
        data = buttons(card_now())[action]  # the card offers it now
        calls = await teams.say(teams.submit(data, card_id=str(card.answered_id), **in_library()))
        if values is None:
            return calls
        (form,) = calls
        return await teams.say(
            teams.submit(submit_data(form) | values, card_id=str(form.answered_id), **in_library())
        )

    await press("ticket_claim")
    await press("ticket_reassign", {"in_specialist": "queue"})  # back to the queue
    assert (await tickets.get(reference)).status.value == "new"
    await press("ticket_claim")
    await press("ticket_update", {"in_update": "Searching Medline now"})
    assert any(
        c.conversation_id == PERSONAL["id"] and "Searching Medline now" in c.text
        for c in teams.connector.calls
    )
    await press("ticket_cancel", {"in_reason": "duplicate"})
    assert (await tickets.get(reference)).status.value == "cancelled"
    await press("ticket_reopen")
    assert (await tickets.get(reference)).status.value == "in_progress"
    assert "ticket_complete" in buttons(card_now())
    shown = [a for a in card_now().card.get("actions") or [] if a.get("mode") != "secondary"]
    assert len(shown) <= 6  # what a Teams card shows; the rest sit behind its "..." menu
