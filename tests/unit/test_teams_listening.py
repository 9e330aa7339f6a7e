"""What the Teams adapter needs for listening mode: the app package asks for resource-specific
consent to receive channel messages, and an activity says whether it is addressed to the bot
and whether a bot sent it (bot/platforms/teams/package.py, bot/platforms/teams/activities.py)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from botbuilder.schema import Activity  # type: ignore[import-untyped]

from bot.platforms.teams.activities import is_channel, is_from_a_bot, mentions_recipient
from bot.platforms.teams.package import build_package

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
ENDPOINT = "https://bot.example.nhs.uk/api/messages"
BOT = {"id": "28:bot", "name": "Evidence Desk"}
ALEX = {"id": "29:alex", "name": "Alex"}


def activity(**fields: Any) -> Any:
    body = {
        "type": "message",
        "recipient": BOT,
        "from": ALEX,
        "conversation": {"id": "19:ward@thread.tacv2;messageid=1", "conversationType": "channel"},
    }
    return Activity().deserialize(body | fields)  # fmt: skip


def test_packaged_manifest_asks_for_consent_to_read_channel_messages(tmp_path: Path) -> None:
    with zipfile.ZipFile(build_package(APP_ID, ENDPOINT, tmp_path / "app.zip")) as archive:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    rsc = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in rsc
    assert manifest["webApplicationInfo"]["id"] == APP_ID  # Teams requires it beside RSC
    assert manifest["webApplicationInfo"]["resource"]
    major, minor = (int(part) for part in manifest["manifestVersion"].split("."))
    assert (major, minor) >= (1, 12)  # the first schema with authorization.permissions


def test_mention_of_the_bot_addresses_it() -> None:
    mention = {"type": "mention", "text": "<at>Evidence Desk</at>", "mentioned": BOT}
    assert mentions_recipient(activity(text="<at>Evidence Desk</at> hi", entities=[mention]))


def test_mention_of_someone_else_does_not_address_the_bot() -> None:
    mention = {"type": "mention", "text": "<at>Sam</at>", "mentioned": {"id": "29:sam"}}
    assert not mentions_recipient(activity(text="<at>Sam</at> hi", entities=[mention]))


def test_message_without_a_mention_does_not_address_the_bot() -> None:
    assert not mentions_recipient(activity(text="anyone know the library hours?"))


def test_malformed_mention_entity_does_not_address_the_bot() -> None:
    assert not mentions_recipient(activity(text="hi", entities=[{"type": "mention"}]))


def test_a_bot_sender_is_recognised_by_its_role() -> None:
    assert is_from_a_bot(activity(**{"from": {"id": "28:rota", "role": "bot"}}))


def test_the_bot_itself_is_recognised_by_its_id() -> None:
    assert is_from_a_bot(activity(**{"from": BOT}))


def test_a_person_is_not_a_bot() -> None:
    assert not is_from_a_bot(activity())


def test_channel_post_is_in_a_channel_and_a_group_chat_is_not() -> None:
    assert is_channel(activity())
    assert not is_channel(activity(conversation={"id": "19:chat", "conversationType": "groupChat"}))
