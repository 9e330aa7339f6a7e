"""A local stand-in for the Slack Web API: records every call, answers like Slack does.

It runs on a random loopback port; the bot's AsyncWebClient is pointed at it with
SLACK_API_URL. Tests wait for one call with `wait_for` (an asyncio condition, no sleeps); to
count calls they use `drained`, which first waits until the bot has nothing pending, so a call
that would come later is counted too. They can make the next calls fail with 429 + Retry-After
or 500 to test the outbox's retries (the refusals are counted in `refused`).

It also keeps the messages posted with chat.postMessage (with their metadata) and answers
conversations.history, conversations.replies and conversations.open from them, as the outbox
needs when it checks whether an attempt with an unknown outcome landed. `hold(method)` makes
calls of a method be accepted (recorded, stored) but not answered until `release()`: the window
in which a process can die after Slack took a message but before it knew.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.db.session import Database
from tests.fakes.drain import drain

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
    #: Posted messages by channel id (DMs under their D... id), oldest first.
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Methods in an outage: until when (loop time), whether 500s took the call, statuses.
    outages: dict[str, tuple[float, bool, Iterator[int]]] = field(default_factory=dict)
    #: Calls answered with an error (an outage or `fail_next`), by method.
    refused: dict[str, int] = field(default_factory=dict)
    #: Methods whose calls are accepted but not answered yet, each with its gate.
    held: dict[str, asyncio.Event] = field(default_factory=dict)
    #: Open Socket Mode connections.
    sockets: list[web.WebSocketResponse] = field(default_factory=list)

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

    def outage(self, method: str, seconds: float, *, taken_despite_500: bool = False) -> None:
        """For the next `seconds`, answer `method` with 429 (Retry-After: 1) and 500 in turn.
        `taken_despite_500`: the 500s come after the message was taken (stored, visible in the
        conversation), as when Slack fails after accepting a post."""
        until = asyncio.get_running_loop().time() + seconds
        self.outages[method] = (until, taken_despite_500, itertools.cycle((429, 500)))

    def hold(self, method: str) -> None:
        """Accept calls of `method` (recorded, and a message stored) but do not answer them
        until `release()` (bounded: 60 s)."""
        self.held.setdefault(method, asyncio.Event())

    def release(self, method: str | None = None) -> None:
        """Answer the held calls of `method` (default: all); later calls are answered at once
        unless it is held again."""
        for name in [method] if method is not None else list(self.held):
            gate = self.held.pop(name, None)
            if gate is not None:
                gate.set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/socket", self._socket)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        for socket in list(self.sockets):
            await socket.close()
        if self.server is not None:
            await self.server.close()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode's WebSocket (what apps.connections.open points at): says hello, then
        keeps the connection open until either side closes it."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        async for _ in socket:
            pass
        return socket

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def drained(
        self, database: Database, method: str = "chat.postMessage", at_least: int = 0
    ) -> list[dict[str, Any]]:
        """Every call of `method`, once the bot using `database` has nothing pending.

        Events are journalled before they are acknowledged, so draining covers them; a button
        or a form is worked on after its acknowledgement, unjournalled, so a test of one says
        how many calls it expects `at_least` before the bot is drained and all are counted."""
        if at_least:
            await self.wait_for(method, at_least)
        await drain(database)
        return self.of(method)

    async def wait_for(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        """Until `count` calls of `method` have arrived (bounded: 10 s, then the test fails).
        For "exactly N" use `drained`: this returns at N and cannot see an N+1th."""
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: len(self.of(method)) >= count)
        return self.of(method)

    async def wait_until(self, done: Callable[[], bool]) -> None:
        """Until `done()` holds, checked at every call received (bounded: 10 s)."""
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(done)

    async def _record(self, method: str, params: dict[str, Any]) -> None:
        async with self._changed:
            self.calls.append(Call(method, params))
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
            return data
        form = await request.post()
        params: dict[str, Any] = dict(request.query)
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
        gate = self.held.get(request.match_info["method"])
        response = await self._answer(request)
        if gate is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gate.wait(), 60)
        return response

    async def _answer(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        pending = self.failures.get(method)
        if pending:
            status, retry_after = pending.pop(0)
            self.refused[method] = self.refused.get(method, 0) + 1
            headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
            error = "ratelimited" if status == 429 else "internal_error"
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        outage = self.outages.get(method)
        if outage is not None and asyncio.get_running_loop().time() < outage[0]:
            status = next(outage[2])
            self.refused[method] = self.refused.get(method, 0) + 1
            if status == 429:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
            if outage[1]:
                await self._succeed(method, params)
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        return await self._succeed(method, params)

    async def _succeed(self, method: str, params: dict[str, Any]) -> web.Response:
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
            ts = f"1800000000.{next(self._ts):06d}"
            message: dict[str, Any] = {"type": "message", "ts": ts, "bot_id": "BBOT",
                                       "user": BOT_USER, "text": params.get("text", "")}  # fmt: skip
            if params.get("thread_ts"):
                message["thread_ts"] = str(params["thread_ts"])
            if isinstance(params.get("metadata"), dict):
                message["metadata"] = params["metadata"]
            self.messages.setdefault(channel, []).append(message)
            return web.json_response({"ok": True, "channel": channel, "ts": ts})
        if method == "apps.connections.open":
            assert self.server is not None
            return web.json_response(
                {"ok": True, "url": str(self.server.make_url("/socket")).replace("http", "ws", 1)}
            )
        if method == "conversations.open":
            user = str(params.get("users", ""))
            return web.json_response({"ok": True, "channel": {"id": "D" + user[1:]}})
        if method in ("conversations.history", "conversations.replies"):
            return web.json_response(self._history(method, params))
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": f"1800000000.{next(self._ts):06d}"})
        return web.json_response({"ok": True})

    def _history(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, like Slack; metadata only with include_all_metadata; cursor = offset."""
        posted = self.messages.get(str(params.get("channel", "")), [])
        if method == "conversations.replies":
            thread = str(params.get("ts", ""))
            found = [m for m in posted if m["ts"] == thread or m.get("thread_ts") == thread]
        else:
            found = [m for m in posted if m.get("thread_ts") in (None, m["ts"])]
        oldest = float(params.get("oldest") or 0)
        found = [m for m in reversed(found) if float(m["ts"]) >= oldest]
        if str(params.get("include_all_metadata", "")).lower() not in ("1", "true"):
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 100)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}  # fmt: skip

    async def _respond(self, request: web.Request) -> web.Response:
        await self._record("response_url", await request.json())
        return web.Response(text="ok")
