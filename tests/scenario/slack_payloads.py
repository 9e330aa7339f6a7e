"""The payloads Slack posts when a person submits a modal or presses a button, as the scenario
tests send them (signed, over HTTP, by tests/scenario/conftest.py's SlackWorld)."""

from __future__ import annotations

import json
from typing import Any

from handlers.intake import request_form
from tests.scenario.conftest import REQUESTER, WARD


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def view_submission(
    callback_id: str, values: dict[str, dict[str, Any]], state: str, user: str = REQUESTER
) -> dict[str, Any]:
    return {
        "type": "view_submission", "team": {"id": "T0TEAM"}, "user": {"id": user, "name": "someone"},
        "api_app_id": "A0APP", "trigger_id": "trig-1",
        "view": {"id": "V0VIEW1", "type": "modal", "callback_id": callback_id, "private_metadata": state,
                 "blocks": [{"block_id": name} for name in shown_fields(callback_id, values)],
                 "state": {"values": values}},
    }  # fmt: skip


def shown_fields(callback_id: str, values: dict[str, Any]) -> list[str]:
    """The input blocks the real modal had: every field of the form, filled in or not."""
    if callback_id == "request_submit":
        return [f.name for f in request_form().fields]
    return list(values)


def text_value(value: str) -> dict[str, Any]:
    return {"input": {"type": "plain_text_input", "value": value}}


def select_value(value: str) -> dict[str, Any]:
    return {"input": {"type": "static_select", "selected_option": {"value": value}}}


def button(
    action_id: str,
    value: str,
    user: str,
    channel: str = WARD,
    ts: str = "1800000000.000001",
    response_url: str = "",
) -> dict[str, Any]:
    return {
        "type": "block_actions", "team": {"id": "T0TEAM"}, "user": {"id": user, "name": "someone"},
        "api_app_id": "A0APP", "trigger_id": "trig-2", "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": ts},
        "message": {"ts": ts, "text": "x"}, "response_url": response_url,
        "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b"}],
    }  # fmt: skip
