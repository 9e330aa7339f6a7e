"""In a Teams channel, what someone pasted is never shown to everyone: the shared form card
comes back with identifiers taken out, and the warning goes to that person alone."""

from __future__ import annotations

import json

from bot.keys import MESSENGERS, OUTBOX
from tests.fakes.bot_connector import ConnectorCall
from tests.fakes.drain import until
from tests.teams_world import (
    PERSONAL,
    VALID_NHS_NUMBER,
    WARD,
    TeamsWorld,
    inputs,
    submit_data,
)

SPACED = "943 476 5919"


async def open_form_in_the_ward(teams: TeamsWorld) -> ConnectorCall:
    (offer,) = await teams.say(teams.channel_message("can you find evidence on falls prevention?"))
    button = next(a for a in offer.card["actions"] if a["data"]["action"] == "request_open")
    (form,) = await teams.say(teams.submit(button["data"], card_id="act-offer", conversation=WARD))
    return form


async def submit_in_the_ward(teams: TeamsWorld, form: ConnectorCall) -> list[ConnectorCall]:
    answers = {"in_question": f"falls in patient {SPACED}", "in_purpose": "research",
               "in_notes": f"NHS no {VALID_NHS_NUMBER}"}  # fmt: skip
    return await teams.say(
        teams.submit(submit_data(form) | answers, card_id="act-form", conversation=WARD)
    )


async def to_alex_alone(teams: TeamsWorld, since: int) -> list[ConnectorCall]:
    """Messages sent to Alex's personal chat since call `since`, once the outbox sent them
    (here, or by the worker the bot woke); fails the test if none come."""

    async def sent() -> list[ConnectorCall] | None:
        await teams.app[OUTBOX].deliver_due(teams.app[MESSENGERS])
        calls = teams.connector.calls[since:]
        return [c for c in calls if c.conversation_id == PERSONAL["id"]] or None

    return await until(sent)


def shows(call: ConnectorCall, raw: str) -> bool:
    digits = "".join(ch for ch in raw if ch.isdigit())
    return digits in "".join(ch for ch in json.dumps(call.body) if ch.isdigit())


async def test_a_channel_form_with_an_nhs_number_comes_back_without_it(teams: TeamsWorld) -> None:
    form = await open_form_in_the_ward(teams)
    (again,) = await submit_in_the_ward(teams, form)
    assert (again.method, again.activity_id) == ("PUT", "act-form")  # the shared card
    assert not shows(again, VALID_NHS_NUMBER)
    fields = inputs(again)
    assert fields["in_question"]["value"] == "falls in patient [NHS number removed]"
    assert fields["in_notes"]["value"] == "NHS no [NHS number removed]"
    assert "It looks like your message contains" not in json.dumps(again.card)
    assert await teams.tickets() == 0


async def test_the_warning_about_a_channel_form_goes_to_the_sender_alone(
    teams: TeamsWorld,
) -> None:
    await teams.say(teams.activity(text="hello"))  # Alex has a personal chat with the bot
    form = await open_form_in_the_ward(teams)
    before = len(teams.connector.calls)
    await submit_in_the_ward(teams, form)
    (private,) = await to_alex_alone(teams, before)
    assert "It looks like your message contains NHS numbers" in private.text
    assert not shows(private, VALID_NHS_NUMBER)
    in_the_ward = [c for c in teams.connector.calls[before:] if c.conversation_id != PERSONAL["id"]]
    assert not any("It looks like your message" in json.dumps(c.body) for c in in_the_ward)


async def test_a_channel_message_with_an_nhs_number_is_warned_about_privately(
    teams: TeamsWorld,
) -> None:
    await teams.say(teams.activity(text="hello"))
    before = len(teams.connector.calls)
    calls = await teams.say(teams.channel_message(f"library opening hours for {VALID_NHS_NUMBER}"))
    in_the_ward = [c for c in calls if c.conversation_id != PERSONAL["id"]]
    assert not any("It looks like your message" in json.dumps(c.body) for c in in_the_ward)
    private = await to_alex_alone(teams, before)
    assert any("It looks like your message contains an NHS number" in c.text for c in private)
    assert not any(shows(c, VALID_NHS_NUMBER) for c in teams.connector.calls)
