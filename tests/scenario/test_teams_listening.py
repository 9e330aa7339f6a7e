"""Listening mode in Microsoft Teams over real HTTP: "@Evidence Desk listen on" in a channel,
then the bot (which, with resource-specific consent, receives every channel message) helps
unasked in that channel only, at the start of a thread, once, and stops when told.

Channel posts here are shaped as Teams sends them with ChannelMessage.Read.Group: no mention
entity, and a conversation id carrying `;messageid=<root post id>`, which for a new post is
the post's own id and for a reply is the id of the post it replies to.
"""

from __future__ import annotations

import itertools
from typing import Any

from bot.desk.listening_store import ListeningStore
from bot.keys import DATABASE
from tests.fakes.bot_connector import ConnectorCall
from tests.teams_world import BOT, MENTION, TENANT, WARD_CHANNEL, TeamsWorld

OTHER_CHANNEL = "19:pharmacy-channel@thread.tacv2"
QUESTION = "anyone know how to reset their athens password?"
_posts = itertools.count()
ROTA_BOT = {"id": "28:rota-bot", "name": "Rota Bot", "role": "bot"}


def channel_data(channel: str) -> dict[str, Any]:
    return {"tenant": {"id": TENANT}, "teamsChannelId": channel, "channel": {"id": channel},
            "team": {"id": "19:team@thread.tacv2"}}  # fmt: skip


def in_thread(root: str, channel: str = WARD_CHANNEL) -> dict[str, Any]:
    return {"id": f"{channel};messageid={root}", "conversationType": "channel", "isGroup": True,
            "tenantId": TENANT}  # fmt: skip


def post(
    teams: TeamsWorld,
    text: str,
    message_id: str,
    thread: str | None = None,
    channel: str = WARD_CHANNEL,
    **fields: Any,
) -> dict[str, Any]:
    """A channel message that does not mention the bot: a new post, or a reply in `thread`."""
    where = {"conversation": in_thread(thread or message_id, channel),
             "channelData": channel_data(channel)}  # fmt: skip
    return teams.activity(id=message_id, text=text, **(where | fields))


async def listen(teams: TeamsWorld, word: str, channel: str = WARD_CHANNEL) -> ConnectorCall:
    """ "@Evidence Desk listen <word>" posted in the channel; the bot's answer."""
    mention = {"type": "mention", "text": MENTION, "mentioned": BOT}
    message = post(teams, f"{MENTION} listen {word}", f"17000000005{next(_posts):02d}",
                   channel=channel, entities=[mention])  # fmt: skip
    (answer,) = await teams.say(message)
    return answer


def button(call: ConnectorCall, title: str) -> dict[str, Any]:
    data: dict[str, Any] = next(a["data"] for a in call.card["actions"] if a["title"] == title)
    return data


async def test_listen_on_said_to_the_bot_in_a_channel_turns_it_on_and_audits_who(
    teams: TeamsWorld,
) -> None:
    answer = await listen(teams, "on")
    assert "Listening is on" in answer.text
    audit = await ListeningStore(teams.app[DATABASE]).audit("teams", WARD_CHANNEL)
    assert [(actor, action) for actor, action, _ in audit] == [("teams:aad-alex", "on")]


async def test_question_in_an_opted_in_channel_is_answered_as_a_reply_in_its_thread(
    teams: TeamsWorld,
) -> None:
    await listen(teams, "on")
    (reply,) = await teams.say(post(teams, QUESTION, "1700000100001"))
    assert (
        reply.conversation_id == f"{WARD_CHANNEL};messageid=1700000100001"
    )  # the post's reply chain
    assert "OpenAthens password" in reply.text
    titles = [action["title"] for action in reply.card["actions"]]
    assert {"Not now", "Stop listening here"} <= set(titles)


async def test_channel_that_did_not_opt_in_stays_silent(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    assert await teams.say(post(teams, QUESTION, "1700000200001", channel=OTHER_CHANNEL)) == []


async def test_chatter_stays_silent(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    assert await teams.say(post(teams, "bed 4 needs obs at 2 please", "1700000300001")) == []


async def test_reply_inside_a_thread_stays_silent(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    assert await teams.say(post(teams, "handover at 7 today", "1700000400001")) == []
    reply = post(teams, QUESTION, "1700000400002", thread="1700000400001")
    assert await teams.say(reply) == []


async def test_second_question_in_the_same_thread_stays_silent(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    assert len(await teams.say(post(teams, QUESTION, "1700000500001"))) == 1
    again = post(teams, "and when is the library open?", "1700000500002", thread="1700000500001")
    assert await teams.say(again) == []


async def pressed_on_the_unasked_answer(teams: TeamsWorld, label: str, root: str) -> ConnectorCall:
    """Listening on, QUESTION posted in the ward channel as the post `root`, and `label`
    pressed on the bot's unasked answer; what the bot said to that."""
    await listen(teams, "on")
    (offer,) = await teams.say(post(teams, QUESTION, root))
    press = teams.submit(
        button(offer, label), card_id=str(offer.answered_id),
        conversation=in_thread(root), channelData=channel_data(WARD_CHANNEL),
    )  # fmt: skip
    (said,) = await teams.say(press)
    return said


async def test_stop_listening_here_turns_it_off(teams: TeamsWorld) -> None:
    announcement = await pressed_on_the_unasked_answer(
        teams, "Stop listening here", "1700000600001"
    )
    assert "Alex Nurse turned listening off" in announcement.text
    assert "Listening is off" in (await listen(teams, "status")).text
    assert await teams.say(post(teams, "how do I reset my athens password?", "1700000600009")) == []


async def test_not_now_leaves_listening_on(teams: TeamsWorld) -> None:
    answer = await pressed_on_the_unasked_answer(teams, "Not now", "1700000650001")
    assert "stay out of this one" in answer.text
    assert "Listening is on" in (await listen(teams, "status")).text


async def test_search_request_gets_the_offer_of_the_form_and_no_ticket(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    asked = "has anyone got evidence on early mobilisation after hip fracture?"
    (offer,) = await teams.say(post(teams, asked, "1700000700001"))
    assert button(offer, "Open the request form")["action"] == "request_open"
    assert await teams.tickets() == 0


async def test_messages_from_another_bot_are_ignored(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    from_bot = post(teams, QUESTION, "1700000800001", **{"from": ROTA_BOT})
    assert await teams.say(from_bot) == []


async def test_the_bots_own_messages_are_ignored(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    assert await teams.say(post(teams, QUESTION, "1700000850001", **{"from": BOT})) == []


async def test_an_edited_post_stays_silent(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    edit = post(teams, QUESTION, "1700000900001", type="messageUpdate",
                channelData=channel_data(WARD_CHANNEL) | {"eventType": "editMessage"})  # fmt: skip
    assert await teams.say(edit) == []


async def test_a_mention_in_an_opted_in_channel_is_answered_as_before(teams: TeamsWorld) -> None:
    await listen(teams, "on")
    (reply,) = await teams.say(teams.channel_message("library opening hours"))
    assert "Not now" not in reply.text  # asked, so answered plainly, without the controls


async def test_listen_on_in_a_personal_chat_explains_it_is_set_per_channel(
    teams: TeamsWorld,
) -> None:
    (reply,) = await teams.say(teams.activity(text=f"{MENTION} listen on"))
    assert "per channel" in reply.text
    personal = await ListeningStore(teams.app[DATABASE]).audit("teams", "a:personal-chat-alex")
    assert personal == []


async def test_listening_is_off_until_a_channel_opts_in(teams: TeamsWorld) -> None:
    assert "Listening is off" in (await listen(teams, "status")).text
    assert await teams.say(post(teams, QUESTION, "1700001000001")) == []
