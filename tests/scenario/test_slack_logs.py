"""Nothing people write to the bot reaches the log, even from a request Slack did not sign."""

from __future__ import annotations

import json
import logging

import pytest

from tests.scenario.conftest import REQUESTER, WARD, SlackWorld, signed_headers

TEXT = "sepsis evidence for NHS 943 476 5919 please"


async def test_a_request_failing_the_signature_check_is_logged_without_its_body(
    slack: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # A rotated signing secret or a skewed clock makes every genuine request fail the check;
    # slack-bolt then logs each whole body at INFO.
    caplog.set_level(logging.DEBUG)
    body = json.dumps(
        {"type": "event_callback", "event_id": "EvLog1", "event": {
            "type": "app_mention", "user": REQUESTER, "channel": WARD, "text": TEXT}}
    )  # fmt: skip
    headers = {"Content-Type": "application/json", **signed_headers(body, secret="rotated")}
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Invalid request signature" in logged  # the event itself is still recorded
    assert "sepsis" not in logged
    assert "5919" not in logged
