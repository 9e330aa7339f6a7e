"""Evidence Desk in Microsoft Teams, over HTTP: the activities Teams posts and what the bot
sent back to the fake Bot Framework connector (tests/fakes/bot_connector.py).

Shared by the Teams scenario tests and the Teams fuzz tests; the `teams` fixture (tests/conftest.py)
is the real app on its own migrated SQLite file, in local mode.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.app import create_app
from bot.keys import DATABASE
from bot.platforms.teams import MESSAGES_PATH
from tests.app_settings import app_settings
from tests.fakes.bot_connector import ConnectorCall, FakeBotConnector

BOT = {"id": "28:evidence-desk-bot", "name": "Evidence Desk"}
ALEX = {"id": "29:alex-teams-id", "name": "Alex Nurse", "aadObjectId": "aad-alex"}
TENANT = "tenant-0001"
PERSONAL = {"id": "a:personal-chat-alex", "conversationType": "personal", "tenantId": TENANT}
WARD_CHANNEL = "19:ward-channel@thread.tacv2"
WARD_THREAD = "1700000000001"
WARD = {
    "id": f"{WARD_CHANNEL};messageid={WARD_THREAD}",
    "conversationType": "channel",
    "isGroup": True,
    "tenantId": TENANT,
}
MENTION = "<at>Evidence Desk</at>"
VALID_NHS_NUMBER = "9434765919"
TEAMS_VARIABLES = (
    "microsoftappid",
    "microsoftapppassword",
    "microsoftapptype",
    "microsoftapptenantid",
)


@dataclass
class TeamsWorld:
    client: TestClient
    connector: FakeBotConnector
    app: web.Application
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def activity(self, **fields: Any) -> dict[str, Any]:
        """A Teams activity as the Bot Framework service posts it (a personal-chat message
        from Alex unless told otherwise)."""
        activity: dict[str, Any] = {
            "type": "message",
            "id": f"f:{next(self._ids):06d}",
            "timestamp": "2026-03-02T10:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": ALEX,
            "recipient": BOT,
            "conversation": PERSONAL,
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-GB",
            "textFormat": "plain",
        }
        activity.update(fields)
        return activity

    def channel_message(self, text: str, **fields: Any) -> dict[str, Any]:
        return self.activity(
            text=f"{MENTION} {text}",
            conversation=WARD,
            entities=[{"type": "mention", "text": MENTION, "mentioned": BOT}],
            channelData={
                "tenant": {"id": TENANT},
                "teamsChannelId": WARD_CHANNEL,
                "channel": {"id": WARD_CHANNEL},
                "team": {"id": "19:team@thread.tacv2"},
            },
            **fields,
        )

    def submit(self, data: dict[str, Any], card_id: str, **fields: Any) -> dict[str, Any]:
        """What Teams posts when an Action.Submit on the card `card_id` is pressed."""
        return self.activity(value=data, replyToId=card_id, **fields)

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> int:
        response = await self.client.post(
            MESSAGES_PATH,
            data=body if isinstance(body, str | bytes) else json.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        return response.status

    async def say(self, activity: dict[str, Any]) -> list[ConnectorCall]:
        """Post an activity; every call the bot made to the connector for it, once the bot
        has nothing pending (so whether it answers in the turn or from the outbox, a second
        answer would be counted too)."""
        before = len(self.connector.calls)
        assert await self.post(activity) == 200
        return (await self.connector.drained(self.app[DATABASE]))[before:]

    async def tickets(self) -> int:
        async with self.app[DATABASE].transaction() as session:
            return int(await session.scalar(text("SELECT count(*) FROM tickets")) or 0)


def without_teams_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local mode whatever the developer's shell holds (pydantic-settings ignores case)."""
    for name in list(os.environ):
        if name.lower() in TEAMS_VARIABLES or name.lower().startswith("evidence_desk_teams_"):
            monkeypatch.delenv(name)


def build_app(database_url: str) -> web.Application:
    """The whole app with Teams in local mode on `database_url` (the outbox delivered by hand)."""
    # The tests deliver the outbox themselves.
    return create_app(app_settings(database_url, outbox_interval_seconds=3600))


def submit_data(call: ConnectorCall) -> dict[str, Any]:
    """The data of the card's (only) submit action, as the form sends it back."""
    (action,) = call.card["actions"]
    data: dict[str, Any] = action["data"]
    return data


def inputs(call: ConnectorCall) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in call.card["body"] if e["type"].startswith("Input.")}


def clean_request(extra: dict[str, str] | None = None) -> dict[str, str]:
    answers = {
        "in_question": "falls prevention in older inpatients",
        "in_purpose": "service_development",
    }
    return answers | (extra or {})


async def open_form(teams: TeamsWorld) -> ConnectorCall:
    """Ask for evidence, press "Open the request form"; the form card the bot sent."""
    (offer,) = await teams.say(teams.activity(text="can you find evidence on falls prevention?"))
    button = next(a for a in offer.card["actions"] if a["data"]["action"] == "request_open")
    (form,) = await teams.say(teams.submit(button["data"], card_id="act-offer"))
    return form


async def welcome_in_ward(teams: TeamsWorld) -> None:
    """The bot is added to the ward channel: it now holds a reference to write there later."""
    await teams.say(
        teams.activity(type="conversationUpdate", membersAdded=[BOT], conversation=WARD)
    )
