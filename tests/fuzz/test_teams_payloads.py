"""Property-based bad input for Teams: whatever is POSTed to /api/messages, no 5xx, a clear
error, and the bot still answers afterwards.

The app is the real one in Teams local mode (as tests/scenario/test_teams.py runs it), over
real HTTP; the bot's answers go to a fake Bot Framework connector on loopback. Hypothesis
builds activities of plausible shape with random or malformed fields (type, text with odd
Unicode or huge, entities, card submission values, conversation ids, channelData, missing
fields) and raw junk bodies. After each example a well-formed message must still be
answered. Every property runs a fixed number of examples, with no deadline.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.keys import WORKER
from bot.platforms.teams import TEAMS
from tests.fakes.bot_connector import FakeBotConnector
from tests.teams_world import (
    ALEX,
    BOT,
    MENTION,
    PERSONAL,
    WARD,
    TeamsWorld,
)

FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SMALL = settings(FUZZ, max_examples=30)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)
# Any code point, lone surrogates included (JSON can carry them as \ud800 escapes).
odd_text = st.text(st.characters(codec=None, min_codepoint=0), max_size=300)
texts = st.none() | st.text(max_size=100) | odd_text | json_values
# Past the longest message the bot reads (4000 characters), and far past it.
huge_text = st.sampled_from([4_001, 20_000, 150_000]).map(lambda n: "é🙂\u202e" * (n // 3))
message_texts = texts | huge_text
ACTIVITY_TYPES = ["message", "conversationUpdate", "invoke", "typing", "messageReaction",
                  "messageUpdate", "messageDelete", "event", "installationUpdate",
                  "endOfConversation", "handoff", "trace"]  # fmt: skip
types = st.sampled_from(ACTIVITY_TYPES) | st.text(max_size=20) | json_values
accounts = st.one_of(
    st.just(ALEX),
    st.just(BOT),
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.text(max_size=40) | json_values,
            "name": texts,
            "aadObjectId": st.text(max_size=40) | json_values,
            "role": st.sampled_from(["user", "bot", ""]) | json_values,
        },
    ),
    json_values,
)
conversation_ids = st.one_of(
    st.text(max_size=60),
    odd_text,
    st.builds(lambda a, b: f"19:{a}@thread.tacv2;messageid={b}", st.text(max_size=20), odd_text),
    st.just(";messageid="),
    st.just(""),
)
conversations = st.one_of(
    st.just(PERSONAL),
    st.just(WARD),
    st.fixed_dictionaries(
        {"id": conversation_ids},
        optional={
            "conversationType": st.sampled_from(["personal", "channel", "groupChat", ""])
            | json_values,
            "isGroup": json_values,
            "tenantId": json_values,
            "name": texts,
        },
    ),
)
entities = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["mention", "Mention", "clientInfo"]) | json_values},
            optional={"text": texts, "mentioned": accounts},
        ),
        json_values,
    ),
    max_size=4,
)
submissions = st.one_of(
    json_values,
    st.dictionaries(
        st.sampled_from(
            [
                "action",
                "value",
                "state",
                "in_question",
                "in_purpose",
                "in_deadline",
                "in_",
                "in_x" * 20,
            ]
        )
        | st.text(max_size=12),
        json_values | odd_text,
        max_size=6,
    ),
    st.fixed_dictionaries(
        {
            "action": st.sampled_from(
                [
                    "request_open",
                    "request_submit",
                    "faq_helpful",
                    "faq_not_helpful",
                    "faq_show",
                    "claim",
                    "listen",
                ]
            )
        },
        optional={
            "value": json_values | odd_text,
            "state": json_values | odd_text,
            "in_question": texts,
            "in_purpose": texts,
        },
    ),
)


def activities(connector: FakeBotConnector) -> st.SearchStrategy[dict[str, Any]]:
    """Activities with the fields the bot checks first present (so they reach the SDK and
    the bot), and everything else random, malformed or missing."""
    return st.fixed_dictionaries(
        {
            "type": types,
            "conversation": conversations,
            "serviceUrl": st.just(connector.url),
        },
        optional={
            "id": st.text(max_size=40) | json_values,
            "text": message_texts,
            "from": accounts,
            "recipient": accounts,
            "entities": entities | json_values,
            "value": submissions,
            "replyToId": st.text(max_size=20) | json_values,
            "channelData": json_values,
            "channelId": st.sampled_from(["msteams", "emulator", ""]) | json_values,
            "timestamp": st.sampled_from(["2026-03-02T10:00:00.000Z", "yesterday", ""])
            | json_values,
            "locale": texts,
            "name": st.sampled_from(["adaptiveCard/action", "healthCheck", "task/fetch"]) | texts,
            "membersAdded": st.lists(accounts, max_size=3) | json_values,
            "membersRemoved": st.lists(accounts, max_size=3) | json_values,
            "attachments": st.lists(json_values, max_size=2) | json_values,
            "textFormat": texts,
        },
    )


async def post_raw(teams: TeamsWorld, body: bytes | str) -> tuple[int, str]:
    response = await teams.client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    return response.status, await response.text()


def assert_refused(status: int, text: str) -> None:
    """A client error that says why, as JSON."""
    assert 400 <= status < 500, (status, text[:500])
    error = json.loads(text)["error"]
    assert isinstance(error, str) and error


def assert_clear(status: int, text: str) -> None:
    """Answered (200) or refused clearly; never a server error, never another success."""
    assert status == 200 or 400 <= status < 500, (status, text[:500])
    if status != 200:
        assert_refused(status, text)


def unanswerable(activity: dict[str, Any]) -> bool:
    """An activity no reply could ever reach: its conversation id is not a printable ASCII
    string (the id travels back in a URL and a header)."""
    conversation = activity.get("conversation")
    conversation_id = conversation.get("id") if isinstance(conversation, dict) else None
    return not (
        isinstance(conversation_id, str)
        and conversation_id
        and conversation_id.isascii()
        and conversation_id.isprintable()
        and conversation_id == conversation_id.strip()
    )


def assert_clear_for(activity: dict[str, Any], status: int, text: str) -> None:
    """Like assert_clear, and an activity that cannot be answered is refused, not taken."""
    if unanswerable(activity):
        assert_refused(status, text)
    else:
        assert_clear(status, text)


async def still_answers(teams: TeamsWorld) -> None:
    """A well-formed question still gets its answer card (through the outbox, so it is
    waited for, bounded; answers to the junk's made-up service URLs may still be retrying)."""
    before = len(teams.connector.calls)
    status = await teams.post(teams.activity(text="library opening hours"))
    assert status == 200
    async with asyncio.timeout(10):
        while not any(call.ok and call.card for call in teams.connector.calls[before:]):
            await teams.app[TEAMS].bot.drain()
            teams.app[WORKER].kick()
            await asyncio.sleep(0.01)


@FUZZ
@given(data=st.data())
async def test_activities_of_any_shape_never_get_a_5xx(
    teams: TeamsWorld, data: st.DataObject
) -> None:
    activity = data.draw(activities(teams.connector))
    status, text = await post_raw(teams, json.dumps(activity))
    assert_clear_for(activity, status, text)
    await still_answers(teams)


@FUZZ
@given(text=message_texts, entities=entities, conversation=conversations)
async def test_messages_with_odd_text_mentions_and_conversations_are_answered_or_refused_clearly(
    teams: TeamsWorld, text: Any, entities: Any, conversation: Any
) -> None:
    activity = teams.activity(text=text, entities=entities, conversation=conversation)
    status, body = await post_raw(teams, json.dumps(activity))
    assert_clear_for(activity, status, body)
    await still_answers(teams)


@FUZZ
@given(value=submissions, reply_to=st.none() | st.text(max_size=20))
async def test_card_submissions_with_random_values_never_get_a_5xx(
    teams: TeamsWorld, value: Any, reply_to: str | None
) -> None:
    activity = teams.submit(value, card_id=reply_to) if reply_to else teams.activity(value=value)
    status, body = await post_raw(teams, json.dumps(activity))
    assert_clear(status, body)
    await still_answers(teams)


@SMALL
@example(body="[" * 100_000 + "]" * 100_000)  # json.loads: RecursionError
@given(
    body=st.one_of(
        st.binary(max_size=500),
        json_values.map(json.dumps),
        st.text(max_size=200),
        st.integers(1, 50_000).map(lambda depth: "[" * depth + "]" * depth),
        st.integers(1, 50_000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
        st.integers(1, 400).map(lambda cut: json.dumps({"type": "message", "text": "hi"})[:cut]),
        st.just(b"\xff\xfe{}"),
        st.just(b'{"type": "message", "text": "\xc3\x28"}'),
    )
)
async def test_raw_junk_bodies_get_a_clear_400(teams: TeamsWorld, body: bytes | str) -> None:
    status, text = await post_raw(teams, body)
    assert status == 400, text[:500]
    assert_refused(status, text)
    await still_answers(teams)


INVOKES = [
    ("adaptiveCard/action", {"x": 1}),  # no action: the SDK's error could not be serialised
    ("adaptiveCard/action", {"action": "not an object"}),
    ("adaptiveCard/action", None),
    ("task/fetch", {"data": {}}),
    ("healthCheck", None),
    (None, None),
    ("\u0000", [1, 2]),
]


async def test_invokes_the_bot_does_not_handle_get_a_clear_400(teams: TeamsWorld) -> None:
    for name, value in INVOKES:
        activity = teams.activity(type="invoke", name=name, value=value)
        status, text = await post_raw(teams, json.dumps(activity))
        assert 400 <= status < 500, (name, value, text)
        assert json.loads(text)["error"]
    await still_answers(teams)


async def test_oversized_deeply_nested_and_broken_mention_activities(teams: TeamsWorld) -> None:
    """Edge cases, each once: over a megabyte is a 413; nesting about as deep as the JSON
    parser allows, in any field, is no 500; a malformed mention of the bot still gets its
    answer."""
    status, text = await post_raw(teams, json.dumps(teams.activity(text="x" * (1024 * 1024))))
    assert status == 413
    assert "too large" in json.loads(text)["error"]

    nested: Any = 1
    for _ in range(900):
        nested = [nested]
    for field in ("channelData", "value", "entities", "from"):
        activity = teams.activity(text="library opening hours", **{field: nested})
        status, text = await post_raw(teams, json.dumps(activity))
        assert_clear(status, text)

    activity = teams.channel_message("library opening hours")
    activity["entities"] = [{"type": "mention", "text": MENTION, "mentioned": "not an account"}]
    status, text = await post_raw(teams, json.dumps(activity))
    assert_clear(status, text)
    activity = teams.channel_message("library opening hours", id="f:broken-2")
    activity["entities"] = [{"type": "mention", "mentioned": {"id": BOT["id"]}}]
    assert await teams.say(activity), "the bot answered"
    await still_answers(teams)
