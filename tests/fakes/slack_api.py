"""A local stand-in for the Slack Web API: records every call, answers like Slack does.

It runs on a random loopback port; the bot's AsyncWebClient is pointed at it with
SLACK_API_URL. Tests wait for calls with `wait_for` (an asyncio condition, no sleeps), and can
make the next calls fail with 429 + Retry-After or 500 to test the outbox's retries.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_USER = "UBOTUSER"


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeSlackApi:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, float | None]]] = field(default_factory=dict)
    server: TestServer | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def response_url(self, name: str = "r1") -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/respond/{name}"))

    def fail_next(
        self, method: str, status: int, times: int = 1, retry_after: float | None = None
    ) -> None:
        self.failures.setdefault(method, []).extend([(status, retry_after)] * times)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        """Until `count` calls of `method` have arrived (bounded: 10 s, then the test fails)."""
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: len(self.of(method)) >= count)
        return self.of(method)

    async def _record(self, method: str, params: dict[str, Any]) -> None:
        async with self._changed:
            self.calls.append(Call(method, params))
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
            return data
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = str(value)
            if key in {"blocks", "view", "attachments"}:
                try:
                    params[key] = json.loads(text)
                    continue
                except json.JSONDecodeError:
                    pass
            params[key] = text
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        pending = self.failures.get(method)
        if pending:
            status, retry_after = pending.pop(0)
            headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
            error = "ratelimited" if status == 429 else "internal_error"
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        await self._record(method, params)
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "user_id": BOT_USER,
                    "bot_id": "BBOT",
                    "team_id": "T0TEAM",
                    "user": "evidence-desk",
                }
            )
        if method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            if channel.startswith("U"):
                channel = "D" + channel[1:]
            return web.json_response(
                {"ok": True, "channel": channel, "ts": f"1800000000.{next(self._ts):06d}"}
            )
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": f"1800000000.{next(self._ts):06d}"})
        return web.json_response({"ok": True})

    async def _respond(self, request: web.Request) -> web.Response:
        await self._record("response_url", await request.json())
        return web.Response(text="ok")
