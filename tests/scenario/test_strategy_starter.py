"""The search-strategy starter over the wire: a request submitted in Slack or Teams gets a
starter that its specialist (and only a specialist) opens from the card as an editable draft."""

from __future__ import annotations

import json

from tests.scenario.conftest import LIBRARY, REQUESTER, SlackWorld
from tests.scenario.slack_payloads import all_text
from tests.scenario.test_slack_workflow import make_request, press
from tests.scenario.test_teams_workflow import (
    buttons,
    in_library,
    library_queue,
    request_with_a_card,
)
from tests.teams_world import PERSONAL, TeamsWorld, submit_data

__all__ = ["library_queue"]  # a fixture shared with the Teams tests

#: "falls prevention in older inpatients": Accidental Falls, from the entry term "falls".
FALLS = "Accidental Falls (high) https://meshb.nlm.nih.gov/record/ui?ui=D000058"


async def test_a_slack_specialist_opens_the_starter_from_the_card(slack: SlackWorld) -> None:
    reference = await make_request(slack)
    card = next(p for p in slack.api.of("chat.postMessage") if p["channel"] == LIBRARY)
    assert "ticket_strategy" in all_text(card["blocks"])
    await press(slack, "ticket_strategy", reference)
    (opened,) = slack.api.of("views.open")
    view = json.dumps(opened["view"])
    assert opened["view"]["callback_id"] == "ticket_strategy_submit"
    assert FALLS in view
    assert "not advice" in view


async def test_a_slack_requester_cannot_open_the_starter(slack: SlackWorld) -> None:
    reference = await make_request(slack)
    await press(slack, "ticket_strategy", reference, user=REQUESTER)
    assert slack.api.of("views.open") == []
    refused = json.dumps(slack.api.of("response_url"))
    assert "knowledge specialists" in refused and "D000058" not in refused
    assert "D000058" not in json.dumps([c.params for c in slack.api.calls])


async def test_a_teams_specialist_opens_the_starter_and_the_requester_never_sees_it(
    library_queue: None, teams: TeamsWorld
) -> None:
    reference, card = await request_with_a_card(teams)
    press = buttons(card)["ticket_strategy"]
    assert press["value"] == reference
    (form,) = await teams.say(teams.submit(press, card_id=str(card.answered_id), **in_library()))
    assert submit_data(form)["action"] == "ticket_strategy_submit"
    assert FALLS in json.dumps(form.card)
    to_alex = [c for c in teams.connector.calls if c.conversation_id == PERSONAL["id"]]
    assert to_alex and not [c for c in to_alex if "D000058" in json.dumps(c.card or c.text)]
