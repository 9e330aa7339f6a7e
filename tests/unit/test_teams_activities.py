"""What the Teams adapter reads from an activity: the text without the bot's mention, who
sent it and where (bot/platforms/teams/activities.py, bot/platforms/teams/conversations.py)."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity  # type: ignore[import-untyped]

from bot.platforms.teams.activities import location_of, message_text, user_id_of
from bot.platforms.teams.conversations import EXTERNAL_ID_LEN, event_key, join_thread, split_thread

BOT = {"id": "28:bot", "name": "Evidence Desk"}


def activity(**fields: Any) -> Any:
    body = {"type": "message", "recipient": BOT, "from": {"id": "29:alex", "name": "Alex"},
            "conversation": {"id": "a:chat"}} | fields  # fmt: skip
    return Activity().deserialize(body)


def test_bot_mention_is_removed_from_the_text() -> None:
    mention = {"type": "mention", "text": "<at>Evidence Desk</at>", "mentioned": BOT}
    message = activity(text="<at>Evidence Desk</at> library opening hours", entities=[mention])
    assert message_text(message) == "library opening hours"


def test_someone_elses_mention_is_kept() -> None:
    other = {"id": "29:sam", "name": "Sam"}
    mention = {"type": "mention", "text": "<at>Sam</at>", "mentioned": other}
    message = activity(text="ask <at>Sam</at> about hours", entities=[mention])
    assert message_text(message) == "ask <at>Sam</at> about hours"


def test_malformed_mention_entity_leaves_the_text_as_sent() -> None:
    message = activity(text="<at>Evidence Desk</at> hours", entities=[{"type": "mention"}])
    assert message_text(message) == "<at>Evidence Desk</at> hours"


def test_message_without_text_is_empty() -> None:
    assert message_text(activity()) == ""


def test_user_is_their_entra_object_id_when_teams_gives_it() -> None:
    assert user_id_of(activity(**{"from": {"id": "29:alex", "aadObjectId": "aad-1"}})) == "aad-1"


def test_user_is_their_bot_framework_id_otherwise() -> None:
    assert user_id_of(activity()) == "29:alex"


def test_channel_reply_chain_is_split_from_the_channel_id() -> None:
    message = activity(conversation={"id": "19:ward@thread.tacv2;messageid=17000"})
    assert location_of(message) == ("19:ward@thread.tacv2", "17000")


def test_personal_chat_has_no_thread() -> None:
    assert location_of(activity()) == ("a:chat", None)


def test_join_thread_puts_the_reply_chain_back() -> None:
    assert join_thread("19:ward@thread.tacv2", "17000") == "19:ward@thread.tacv2;messageid=17000"
    assert split_thread(join_thread("19:ward@thread.tacv2", None)) == ("19:ward@thread.tacv2", None)


def test_event_key_names_the_conversation_and_the_activity() -> None:
    assert event_key("19:ward@thread.tacv2;messageid=1", "17001") == "19:ward@thread.tacv2|17001"


def test_event_key_fits_the_column_however_long_the_ids() -> None:
    assert len(event_key("19:" + "x" * 400, "1")) <= EXTERNAL_ID_LEN
