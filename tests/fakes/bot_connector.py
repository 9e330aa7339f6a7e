"""A local stand-in for the Bot Framework connector (the Teams service at an activity's
serviceUrl): records every activity the bot sends, answers like the connector does.

It runs on a random loopback port; test activities carry its URL as `serviceUrl`, so the real
botbuilder ConnectorClient talks to it over HTTP. It serves the three calls the bot makes:

* POST /v3/conversations/{conversation_id}/activities                 (send to conversation)
* POST /v3/conversations/{conversation_id}/activities/{activity_id}   (reply to an activity)
* PUT  /v3/conversations/{conversation_id}/activities/{activity_id}   (update an activity)

Each answers `{"id": "<new id>"}`. `fail_next` makes the next calls answer 429 with
Retry-After, or a 5xx, to test the outbox's retries. Nothing here sleeps. Whether the bot
answers within its turn or later from the outbox, `drained` returns what it sent once it has
nothing pending, so a test counts every activity, including one that would come late.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.db.session import Database
from tests.fakes.drain import drain


@dataclass(frozen=True)
class ConnectorCall:
    method: str  # "POST" or "PUT"
    conversation_id: str
    activity_id: str | None  # the activity replied to (POST) or updated (PUT)
    body: dict[str, Any]
    status: int  # what the fake answered
    answered_id: str | None = None  # the id it gave the activity

    @property
    def ok(self) -> bool:
        return self.status < 300

    @property
    def card(self) -> dict[str, Any]:
        """The first Adaptive Card attachment's content ({} if there is none)."""
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content: dict[str, Any] = attachment.get("content") or {}
                return content
        return {}

    @property
    def text(self) -> str:
        """Everything a person would read: the activity text and the card, as JSON text."""
        return (self.body.get("text") or "") + json.dumps(self.card)


@dataclass
class FakeBotConnector:
    calls: list[ConnectorCall] = field(default_factory=list)
    server: TestServer | None = None
    _failures: list[tuple[int, float | None]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _down: int | None = None

    @property
    def url(self) -> str:
        """The serviceUrl to put in activities."""
        assert self.server is not None
        return str(self.server.make_url("/"))

    @property
    def delivered(self) -> list[ConnectorCall]:
        return [call for call in self.calls if call.ok]

    @property
    def posts(self) -> list[ConnectorCall]:
        return [call for call in self.delivered if call.method == "POST"]

    @property
    def updates(self) -> list[ConnectorCall]:
        return [call for call in self.delivered if call.method == "PUT"]

    async def drained(self, database: Database) -> list[ConnectorCall]:
        """Every call received (delivered or refused), once the bot using `database` has
        nothing pending."""
        await drain(database)
        return list(self.calls)

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        self._failures.extend([(status, retry_after)] * times)

    def go_down(self, status: int = 503) -> None:
        """An outage: every call answers `status` until `come_back`."""
        self._down = status

    def come_back(self) -> None:
        self._down = None

    def answered_per_conversation(self) -> dict[str, int]:
        """How many messages each conversation received (posts accepted, not updates)."""
        counts: dict[str, int] = {}
        for call in self.posts:
            counts[call.conversation_id] = counts.get(call.conversation_id, 0) + 1
        return counts

    async def start(self) -> None:
        app = web.Application()
        base = "/v3/conversations/{conversation_id}/activities"
        app.router.add_post(base, self._activity)
        app.router.add_post(base + "/{activity_id}", self._activity)
        app.router.add_put(base + "/{activity_id}", self._activity)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info.get("activity_id")
        failure = self._failures.pop(0) if self._failures else None
        if failure is None and self._down is not None:
            failure = (self._down, None)
        if failure is not None:
            status, retry_after = failure
            self.calls.append(
                ConnectorCall(request.method, conversation_id, activity_id, body, status)
            )
            headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            error = {"error": {"code": "Throttled" if status == 429 else "ServiceError",
                               "message": f"fake connector answered {status}"}}  # fmt: skip
            return web.json_response(error, status=status, headers=headers)
        new_id = (
            activity_id if request.method == "PUT" and activity_id else f"act-{next(self._ids)}"
        )
        self.calls.append(
            ConnectorCall(request.method, conversation_id, activity_id, body, 200, new_id)
        )
        return web.json_response({"id": new_id})
