"""A running Evidence Desk with Slack connected to a fake Slack Web API, over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.keys import DATABASE
from tests.app_settings import app_settings
from tests.fakes.slack_api import FakeSlackApi
from tests.signed import TEST_SECRET_KEY

SIGNING_SECRET = "test-signing-secret"
WARD, LIBRARY = "C0WARD", "C0LIBRARY"
REQUESTER, SPECIALIST = "U0REQUESTER", "U0SPECIALIST"


def signed_headers(
    body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class SlackWorld:
    client: TestClient
    api: FakeSlackApi
    app: web.Application

    async def post_event(
        self, event: dict[str, Any], event_id: str, retry: int | None = None
    ) -> int:
        body = json.dumps(
            {"type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP",
             "event_id": event_id, "event_time": int(time.time()), "event": event}
        )  # fmt: skip
        headers = {"Content-Type": "application/json", **signed_headers(body)}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await self.client.post("/slack/events", data=body, headers=headers)
        return response.status

    async def post_form(self, fields: dict[str, str]) -> tuple[int, str]:
        body = urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        response = await self.client.post("/slack/events", data=body, headers=headers)
        return response.status, await response.text()

    async def post_interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.post_form({"payload": json.dumps(payload)})

    async def posts(
        self, channel: str | None = None, thread: str | None = None, *, at_least: int = 0
    ) -> list[dict[str, Any]]:
        """Every chat.postMessage (to `channel`, in `thread`, if given), counted once the bot
        has nothing pending (tests/fakes/drain.py): a post that comes late is counted too.
        `at_least`: how many to wait for first, when a button or form caused them."""
        posts = await self.api.drained(self.app[DATABASE], at_least=at_least)
        return [
            post
            for post in posts
            if (channel is None or post.get("channel") == channel)
            and (thread is None or post.get("thread_ts") == thread)
        ]

    async def mention(
        self, text: str, event_id: str, thread: str | None = None, ts: str = "1700000000.000100"
    ) -> None:
        event = {"type": "app_mention", "user": REQUESTER, "channel": WARD, "ts": ts,
                 "text": f"<@UBOTUSER> {text}"}  # fmt: skip
        if thread:
            event["thread_ts"] = thread
        assert await self.post_event(event, event_id) == 200


def connect_slack(monkeypatch: pytest.MonkeyPatch, api: FakeSlackApi) -> None:
    """The app's Slack settings: over HTTP (no Socket Mode), its Web API the fake `api`."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_API_URL", api.url)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)


async def route_the_ward(app: web.Application) -> None:
    """Sam Librarian (Slack SPECIALIST) takes WARD's requests, announced in LIBRARY."""
    routing = RoutingService(app[DATABASE])
    specialist = await routing.add_specialist(
        NewSpecialist("Sam Librarian", identities=(Identity("slack", SPECIALIST),))
    )
    route = await routing.add_route(
        "slack", WARD, "Elderly care", notify_platform="slack", notify_channel_id=LIBRARY
    )
    await routing.link(route.id, specialist.id)


@pytest.fixture
async def slack(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SlackWorld]:
    api = FakeSlackApi()
    await api.start()
    connect_slack(monkeypatch, api)
    settings = app_settings(
        f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        outbox_interval_seconds=0.2,
        secret_key=TEST_SECRET_KEY,
    )
    app = create_app(settings)
    client = await aiohttp_client(app)
    await route_the_ward(app)
    try:
        yield SlackWorld(client, api, app)
    finally:
        await api.close()
