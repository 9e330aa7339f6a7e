"""Listening mode in Slack over real signed HTTP: opt in with /evidence listen on, then the
bot helps unasked in that channel only, once a thread, and stops when told."""

from __future__ import annotations

import json

from bot.desk.listening_store import ListeningStore
from bot.keys import DATABASE
from tests.scenario.conftest import REQUESTER, WARD, SlackWorld
from tests.scenario.slack_payloads import button

OTHER = "C0OTHER"


async def listen(slack: SlackWorld, word: str, channel: str = WARD) -> dict[str, object]:
    before = len(slack.api.of("response_url"))
    status, _ = await slack.post_form(
        {"command": "/evidence", "text": f"listen {word}", "user_id": REQUESTER, "channel_id": channel,
         "trigger_id": "t", "team_id": "T0TEAM", "response_url": slack.api.response_url()}
    )  # fmt: skip
    assert status == 200
    return (await slack.api.wait_for("response_url", before + 1))[-1]


async def say(slack: SlackWorld, text: str, ts: str, event_id: str, channel: str = WARD,
              thread: str | None = None) -> None:  # fmt: skip
    event = {"type": "message", "channel_type": "channel", "user": REQUESTER, "channel": channel,
             "ts": ts, "text": text}  # fmt: skip
    if thread:
        event["thread_ts"] = thread
    assert await slack.post_event(event, event_id) == 200


async def marker(slack: SlackWorld, event_id: str) -> None:
    """A mention the bot always answers: once its answer is out, earlier events are done."""
    await slack.mention("library opening hours", event_id, ts="1799999999.000001")


async def test_listen_on_is_announced_in_the_channel(slack: SlackWorld) -> None:
    response = await listen(slack, "on")
    assert response["response_type"] == "in_channel"
    assert "Listening is on" in json.dumps(response)


async def test_question_in_an_opted_in_channel_is_answered_in_its_thread(slack: SlackWorld) -> None:
    await listen(slack, "on")
    await say(slack, "anyone know how to reset their athens password?", "1700000100.000001", "L1")
    (post,) = await slack.posts()
    assert post["thread_ts"] == "1700000100.000001"
    assert "listen_stop" in json.dumps(post["blocks"])


async def test_channel_that_did_not_opt_in_stays_silent(slack: SlackWorld) -> None:
    await listen(slack, "on")
    await say(
        slack,
        "anyone know how to reset their athens password?",
        "1700000200.000001",
        "L2",
        channel=OTHER,
    )
    await marker(slack, "L2m")
    (post,) = await slack.posts()
    assert post["channel"] == WARD  # only the marker was answered


async def test_chatter_stays_silent(slack: SlackWorld) -> None:
    await listen(slack, "on")
    await say(slack, "bed 4 needs obs at 2 please", "1700000300.000001", "L3")
    await marker(slack, "L3m")
    (post,) = await slack.posts()
    assert post["thread_ts"] == "1799999999.000001"


async def test_second_question_in_the_same_thread_stays_silent(slack: SlackWorld) -> None:
    await listen(slack, "on")
    await say(slack, "how do I reset my athens password?", "1700000400.000001", "L4")
    await slack.posts()
    await say(
        slack,
        "and when is the library open?",
        "1700000400.000002",
        "L5",
        thread="1700000400.000001",
    )
    await marker(slack, "L5m")
    posts = await slack.posts()
    assert [p["thread_ts"] for p in posts] == ["1700000400.000001", "1799999999.000001"]


async def test_stop_listening_here_turns_it_off(slack: SlackWorld) -> None:
    await listen(slack, "on")
    status, _ = await slack.post_interaction(button("listen_stop|4", "", REQUESTER))
    assert status == 200
    (announcement,) = await slack.posts(at_least=1)
    assert "turned listening off" in json.dumps(announcement["blocks"])
    response = await listen(slack, "status")
    assert "off" in json.dumps(response)


async def test_mentioning_the_bot_with_listen_on_turns_it_on_and_audits_who(
    slack: SlackWorld,
) -> None:
    await slack.mention("listen on", "L6")
    (post,) = await slack.posts()
    assert "Listening is on" in json.dumps(post["blocks"])
    audit = await ListeningStore(slack.app[DATABASE]).audit("slack", WARD)
    assert [(actor, action) for actor, action, _ in audit] == [(f"slack:{REQUESTER}", "on")]


async def test_listen_on_in_a_direct_message_explains_it_is_set_per_channel(
    slack: SlackWorld,
) -> None:
    event = {"type": "message", "channel_type": "im", "user": REQUESTER, "channel": "D0ALEX",
             "ts": "1700000500.000001", "text": "listen on"}  # fmt: skip
    assert await slack.post_event(event, "L7") == 200
    (note,) = await slack.api.wait_for("chat.postEphemeral")
    assert "per channel" in json.dumps(note)
    assert await ListeningStore(slack.app[DATABASE]).audit("slack", "D0ALEX") == []


async def test_listen_slash_command_in_a_direct_message_explains_it_is_set_per_channel(
    slack: SlackWorld,
) -> None:
    response = await listen(slack, "on", channel="D0ALEX")
    assert response["response_type"] == "ephemeral"
    assert "per channel" in json.dumps(response)
