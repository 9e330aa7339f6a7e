"""Slack's doors: in Socket Mode no Slack URL answers over HTTP; in HTTP mode a request that is
unsigned, forged or signed but malformed is refused with a 4xx, never a 500 and never acted on."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from tests.app_settings import app_settings
from tests.fakes.slack_api import FakeSlackApi
from tests.scenario.conftest import REQUESTER, WARD, SlackWorld, signed_headers


@pytest.fixture
async def socket_mode(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[TestClient[Any, Any], FakeSlackApi]]:
    """The server in Socket Mode, started with only the bot and app tokens."""
    api = FakeSlackApi()
    await api.start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    monkeypatch.setenv("SLACK_API_URL", api.url)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    client = await aiohttp_client(
        create_app(app_settings(f"sqlite:///{tmp_path / 'desk.sqlite3'}"))
    )
    try:
        yield client, api
    finally:
        await client.close()
        await api.close()


def _mention(text: str) -> str:
    event = {"type": "app_mention", "user": REQUESTER, "channel": WARD, "ts": "1700000000.000100",
             "text": f"<@UBOTUSER> {text}"}  # fmt: skip
    return json.dumps(
        {"type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP",
         "event_id": "EvForged", "event_time": int(time.time()), "event": event}
    )  # fmt: skip


async def test_socket_mode_starts_with_only_the_bot_and_app_tokens(
    socket_mode: tuple[TestClient[Any, Any], FakeSlackApi],
) -> None:
    client, api = socket_mode
    assert api.of("apps.connections.open")  # it connected out to Slack
    assert (await client.get("/healthz")).status == 200


async def test_socket_mode_serves_no_slack_url_so_an_unsigned_event_is_a_404(
    socket_mode: tuple[TestClient[Any, Any], FakeSlackApi],
) -> None:
    client, api = socket_mode
    body = _mention("library opening hours")
    response = await client.post(
        "/slack/events", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 404
    command = urlencode({"command": "/evidence", "text": "listen on", "user_id": REQUESTER,
                         "channel_id": WARD, "response_url": api.response_url()})  # fmt: skip
    forged = await client.post(
        "/slack/events",
        data=command,
        headers={"Content-Type": "application/x-www-form-urlencoded", **signed_headers(command)},
    )
    assert forged.status == 404
    assert not api.of("chat.postMessage")


def _submission(state_values: Any, **view: Any) -> dict[str, str]:
    payload = {
        "type": "view_submission",
        "user": {"id": REQUESTER, "name": "requester"},
        "view": {"id": "V0VIEW1", "type": "modal", "callback_id": "request_submit",
                 "private_metadata": "", "state": {"values": state_values}, **view},
    }  # fmt: skip
    return {"payload": json.dumps(payload)}


@pytest.mark.parametrize(
    ("name", "state_values"),
    [
        ("values a list", []),
        ("a block a string", {"question": "falls"}),
        ("a select's option a string", {"purpose": {"purpose": {"type": "static_select",
                                                               "selected_option": "research"}}}),
        ("a checkbox option a number", {"how": {"how": {"type": "checkboxes",
                                                       "selected_options": [1, 2]}}}),
        ("options not a list", {"how": {"how": {"type": "checkboxes",
                                               "selected_options": "a,b"}}}),
        ("a text value an object", {"question": {"question": {"type": "plain_text_input",
                                                             "value": {"x": 1}}}}),
    ],
)  # fmt: skip
async def test_a_signed_but_malformed_form_submission_is_a_400(
    slack: SlackWorld, name: str, state_values: Any
) -> None:
    status, text = await slack.post_form(_submission(state_values))
    assert status == 400, (name, text)
    assert "malformed" in text


@pytest.mark.parametrize(
    "view",
    [{"state": "values"}, {"callback_id": 7}, {"private_metadata": ["x"]}],
)
async def test_a_signed_submission_whose_view_is_malformed_is_a_400(
    slack: SlackWorld, view: dict[str, Any]
) -> None:
    fields = _submission({})
    payload = json.loads(fields["payload"])
    payload["view"].update(view)
    status, text = await slack.post_form({"payload": json.dumps(payload)})
    assert status == 400, text


async def test_a_submission_from_a_user_that_is_not_an_object_is_a_400(slack: SlackWorld) -> None:
    payload = json.loads(_submission({})["payload"]) | {"user": "U0REQUESTER"}
    status, _ = await slack.post_form({"payload": json.dumps(payload)})
    assert status == 400


async def test_an_unsigned_or_forged_request_in_http_mode_is_a_401(slack: SlackWorld) -> None:
    body = _mention("library opening hours")
    unsigned = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status == 401
    forged = await slack.client.post(
        "/slack/events",
        data=body,
        headers={"Content-Type": "application/json", **signed_headers(body, secret="guessed")},
    )
    assert forged.status == 401
    stale = await slack.client.post(
        "/slack/events",
        data=body,
        headers={"Content-Type": "application/json",
                 **signed_headers(body, timestamp=int(time.time()) - 3600)},
    )  # fmt: skip
    assert stale.status == 401
    assert not slack.api.of("chat.postMessage")
