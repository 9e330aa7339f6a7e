"""PostgreSQL goes away under a running bot, and comes back: 503s while it is gone (so Slack
and the Bot Framework retry), 200s again afterwards from the same app instance, and every
event answered exactly once.

The real app runs in-process (create_app, aiohttp's test server, real HTTP) with Slack
pointed at a fake Slack Web API and Teams in local mode answering through a fake Bot Framework
connector. Its DATABASE_URL goes through a TCP proxy (tests/fakes/tcp_proxy.py) in front of the
shared PostgreSQL server, which is never stopped: cutting the proxy closes the app's
connections and turns new ones away, exactly what the app would see if the server stopped.

Skipped unless EVIDENCE_DESK_TEST_POSTGRES_URL is set. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.app import create_app
from bot.db.errors import RETRY_AFTER_SECONDS, DatabaseUnavailable, is_database_unavailable
from bot.db.session import Database
from handlers.intake import request_form
from tests.app_settings import app_settings
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.tcp_proxy import TcpProxy
from tests.fault.conftest import fresh_postgres
from tests.scenario.conftest import connect_slack, signed_headers
from tests.signed import TEST_SECRET_KEY, form_state
from tests.teams_world import without_teams_variables

WARD, LIBRARY = "C0WARD", "C0LIBRARY"
BOT = {"id": "28:evidence-desk-bot", "name": "Evidence Desk"}
ALEX = {"id": "29:alex-teams-id", "name": "Alex Nurse", "aadObjectId": "aad-alex"}
PERSONAL = {"id": "a:personal-chat-alex", "conversationType": "personal", "tenantId": "t-1"}
NHS_NUMBER = "943 476 5919"


async def until(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    """Poll `check` until it holds; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


# ---- the database, behind a proxy ------------------------------------------------------------


@pytest.fixture
async def direct_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database (the test's own, dropped afterwards)."""
    async with fresh_postgres() as url:
        yield url


@pytest.fixture
async def proxy(direct_url: str) -> AsyncIterator[TcpProxy]:
    target = make_url(direct_url)
    tcp = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await tcp.start()
    try:
        yield tcp
    finally:
        await tcp.close()


async def scalar(url: str, sql: str) -> Any:
    """One value, read straight from the database (not through the proxy)."""
    db = Database.from_url(url)
    try:
        async with db.engine.connect() as connection:
            return (await connection.execute(text(sql))).scalar()
    finally:
        await db.dispose()


# ---- the app ---------------------------------------------------------------------------------


@dataclass
class Desk:
    client: TestClient
    api: FakeSlackApi
    connector: FakeBotConnector
    app: web.Application
    proxy: TcpProxy
    direct_url: str

    async def slack(self, body: str, content_type: str, retry: int | None = None) -> tuple[
        int, dict[str, str], str
    ]:  # fmt: skip
        headers = {"Content-Type": content_type, **signed_headers(body)}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"}
        response = await self.client.post("/slack/events", data=body, headers=headers)
        return response.status, dict(response.headers), await response.text()

    async def event(
        self, event_id: str, event: dict[str, Any], retry: int | None = None
    ) -> tuple[int, dict[str, str], str]:
        body = json.dumps(
            {"type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP",
             "event_id": event_id, "event_time": int(time.time()), "event": event}
        )  # fmt: skip
        return await self.slack(body, "application/json", retry)

    async def form(self, fields: dict[str, str]) -> tuple[int, dict[str, str], str]:
        return await self.slack(urlencode(fields), "application/x-www-form-urlencoded")

    async def teams(self, activity: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        response = await self.client.post(
            "/api/messages", data=json.dumps(activity), headers={"Content-Type": "application/json"}
        )
        return response.status, dict(response.headers), await response.text()

    async def ready(self) -> int:
        return (await self.client.get("/readyz")).status

    def answers(self, thread: str) -> int:
        return sum(
            1
            for post in self.api.of("chat.postMessage")
            if post.get("channel") == WARD and str(post.get("thread_ts") or "") == thread
        )

    async def settled(self) -> bool:
        unfinished = await scalar(
            self.direct_url, "SELECT count(*) FROM inbound_events WHERE done_at IS NULL"
        )
        pending = await scalar(
            self.direct_url, "SELECT count(*) FROM outbox WHERE status <> 'sent'"
        )
        return int(unfinished) == 0 and int(pending) == 0


@pytest.fixture
async def desk(
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    proxy: TcpProxy,
    direct_url: str,
) -> AsyncIterator[Desk]:
    api = FakeSlackApi()
    await api.start()
    connector = FakeBotConnector()
    await connector.start()
    connect_slack(monkeypatch, api)
    without_teams_variables(monkeypatch)
    proxied = (
        make_url(direct_url)
        .set(host="127.0.0.1", port=proxy.port)
        .update_query_dict({"connect_timeout": "1"})
        .render_as_string(hide_password=False)
    )
    settings = app_settings(
        proxied,
        outbox_interval_seconds=0.1,
        outbox_lease_seconds=1,
        inbound_lease_seconds=1,
        replay_interval_seconds=0.2,
        unclaimed_escalation_working_hours=100000,
        general_queue=f"slack:{LIBRARY}",
        secret_key=TEST_SECRET_KEY,
    )
    app = create_app(settings)
    try:
        client = await aiohttp_client(app)
        yield Desk(client, api, connector, app, proxy, direct_url)
    finally:
        api.release()
        await api.close()
        await connector.close()


def mention(n: int, text: str = "library opening hours") -> tuple[str, dict[str, Any], str]:
    """(event id, app_mention event, the thread its answer goes to)."""
    ts = f"1700000000.{n:06d}"
    event = {"type": "app_mention", "user": f"U0ASKER{n}", "channel": WARD, "ts": ts,
             "text": f"<@UBOTUSER> {text}"}  # fmt: skip
    return f"Ev{n:04d}", event, ts


def command(api: FakeSlackApi, name: str) -> dict[str, str]:
    return {"command": "/evidence", "text": "library opening hours", "user_id": "U0ASKER9",
            "user_name": "asker", "channel_id": WARD, "channel_name": "ward", "team_id": "T0TEAM",
            "trigger_id": f"trig-{name}", "response_url": api.response_url(name)}  # fmt: skip


def request_submission(marker: str) -> dict[str, str]:
    """The request modal submitted (as tests/scenario/test_slack.py does); its confirmation
    goes to the thread 1700000100.000001 in the ward channel."""
    values = {
        "question": {"input": {"type": "plain_text_input", "value": f"falls prevention {marker}"}},
        "purpose": {"input": {"type": "static_select",
                              "selected_option": {"value": "service_development"}}},
    }  # fmt: skip
    payload = {
        "type": "view_submission", "team": {"id": "T0TEAM"}, "api_app_id": "A0APP",
        "user": {"id": "U0REQUESTER", "name": "someone"}, "trigger_id": "trig-sub",
        "view": {"id": "V0OUTAGE", "type": "modal", "callback_id": "request_submit",
                 "private_metadata": form_state(WARD, "1700000100.000001"),
                 "state": {"values": values},
                 "blocks": [{"block_id": f.name} for f in request_form().fields]},
    }  # fmt: skip
    return {"payload": json.dumps(payload)}


def teams_message(desk: Desk, activity_id: str, text: str) -> dict[str, Any]:
    return {"type": "message", "id": activity_id, "timestamp": "2026-03-02T10:00:00.000Z",
            "channelId": "msteams", "serviceUrl": desk.connector.url, "from": ALEX,
            "recipient": BOT, "conversation": PERSONAL, "text": text,
            "channelData": {"tenant": {"id": "t-1"}}}  # fmt: skip


def assert_refused(status: int, headers: dict[str, str], body: str) -> None:
    assert status == 503, body
    assert headers.get("Retry-After") == str(RETRY_AFTER_SECONDS)
    assert "database cannot be reached" in json.loads(body)["error"]


# ---- the outage ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["refuse", "drop"])
async def test_requests_get_503_while_the_database_is_gone_and_each_is_answered_once_after(
    desk: Desk, mode: str
) -> None:
    # Before: everything works.
    assert await desk.ready() == 200
    before = [mention(n) for n in range(3)]
    for event_id, event, _ in before:
        assert (await desk.event(event_id, event))[0] == 200
    await until(desk.settled, 10, "the answers before the outage")
    assert (await desk.teams(teams_message(desk, "t-before", "library opening hours")))[0] == 200
    await until(desk.settled, 10, "the Teams answer before the outage")  # via the outbox
    assert len(desk.connector.posts) == 1

    await desk.proxy.cut(mode)  # type: ignore[arg-type]

    # During: readiness fails, and nothing that needs the database is taken.
    assert await desk.ready() == 503
    during = [mention(n) for n in range(10, 14)]
    for event_id, event, _ in during:
        assert_refused(*await desk.event(event_id, event))
    assert_refused(*await desk.form(command(desk.api, "during")))
    assert_refused(*await desk.form(request_submission("OUTAGE1")))
    assert_refused(*await desk.teams(teams_message(desk, "t-during", "library opening hours")))
    # An activity the bot does not act on needs no database.
    typing = teams_message(desk, "t-typing", "") | {"type": "typing"}
    assert (await desk.teams(typing))[0] == 200
    assert desk.connector.posts[1:] == []
    assert desk.api.of("response_url") == []

    await desk.proxy.restore()

    # After: the same app instance serves again, and every retry is answered, once.
    assert await desk.ready() == 200
    for event_id, event, _ in during:
        assert (await desk.event(event_id, event, retry=1))[0] == 200
    for event_id, event, _ in before[:1]:  # a stray retry of an event that got its 200
        assert (await desk.event(event_id, event, retry=1))[0] == 200
    status, _, _ = await desk.form(command(desk.api, "after"))
    assert status == 200
    status, _, body = await desk.form(request_submission("OUTAGE1"))
    assert status == 200, body
    assert (await desk.teams(teams_message(desk, "t-during", "library opening hours")))[0] == 200
    assert (await desk.teams(teams_message(desk, "t-during", "library opening hours")))[0] == 200

    await until(desk.settled, 15, "every event finished and every answer sent")
    for _, _, thread in before + during:
        assert desk.answers(thread) == 1, thread
    assert len(desk.connector.posts) == 2  # t-before and t-during, once each
    assert len(desk.api.of("response_url")) == 1
    tickets = await scalar(desk.direct_url, "SELECT count(*) FROM tickets")
    assert tickets == 1
    assert desk.answers("1700000100.000001") == 1  # the request's confirmation
    journal = await scalar(desk.direct_url, "SELECT count(*) FROM inbound_events")
    assert journal == len(before) + len(during) + 2  # and the two Teams activities, once each
    assert desk.proxy.forwarded > 0


@pytest.mark.postgres
async def test_an_event_acknowledged_just_before_the_outage_is_answered_once_after_it(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """The event is journalled and acknowledged; the database goes while it is being answered
    (the answer is held at the database: the test locks the outbox table against writes from
    a connection of its own, so the answer's transaction waits to queue its reply); the
    journal replays it once the database is back, and it is answered exactly once."""
    caplog.set_level(logging.INFO, logger="bot.delivery.inbox")
    holder = Database.from_url(desk.direct_url)
    try:
        async with holder.engine.connect() as lock:
            await lock.begin()
            await lock.execute(text("LOCK TABLE outbox IN SHARE MODE"))  # no INSERT until released
            event_id, event, thread = mention(20, "library opening hours")
            assert (await desk.event(event_id, event))[0] == 200  # journalled: acknowledged

            async def answer_waiting() -> bool:
                waiting = await scalar(
                    desk.direct_url,
                    "SELECT count(*) FROM pg_locks WHERE relation = 'outbox'::regclass "
                    "AND NOT granted",
                )
                return int(waiting) > 0

            await until(answer_waiting, 10, "the answer to wait for the outbox")
            await desk.proxy.cut()
            await lock.rollback()
    finally:
        await holder.dispose()

    async def answer_failed() -> bool:
        return any("will be replayed" in r.getMessage() for r in caplog.records)

    await until(answer_failed, 10, "the held answer to meet the outage")
    assert desk.answers(thread) == 0

    await desk.proxy.restore()
    assert (await desk.event(event_id, event, retry=1))[0] == 200  # Slack's retry: a duplicate
    await until(desk.settled, 15, "the acknowledged event to be replayed and answered")
    assert desk.answers(thread) == 1
    assert await scalar(desk.direct_url, "SELECT count(*) FROM inbound_events") == 1


@pytest.mark.postgres
async def test_an_unreachable_host_is_a_503_after_the_connect_timeout_not_a_hang(
    desk: Desk,
) -> None:
    """Connections are accepted and never answered (a host that has gone): the connect
    timeout from the URL (`?connect_timeout=1`) ends each wait, and the answer is still 503."""
    assert await desk.ready() == 200
    await desk.proxy.cut("hang")
    event_id, event, thread = mention(30)
    assert_refused(*await desk.event(event_id, event))
    assert_refused(*await desk.teams(teams_message(desk, "t-hang", "library opening hours")))
    assert await desk.ready() == 503
    assert desk.proxy.dropped >= 3

    await desk.proxy.restore()
    assert await desk.ready() == 200
    assert (await desk.event(event_id, event, retry=1))[0] == 200
    assert (await desk.teams(teams_message(desk, "t-hang", "library opening hours")))[0] == 200
    await until(desk.settled, 15, "the retried event to be answered")
    assert desk.answers(thread) == 1
    assert len(desk.connector.posts) == 1


# ---- telling an outage from a bug ------------------------------------------------------------


@pytest.mark.postgres
async def test_only_unreachable_database_errors_count_as_an_outage(
    proxy: TcpProxy, direct_url: str
) -> None:
    proxied = make_url(direct_url).set(host="127.0.0.1", port=proxy.port)
    db = Database.from_url(proxied.render_as_string(hide_password=False))
    caught: list[BaseException] = []

    async def attempt(sql: str) -> None:
        try:
            async with db.transaction() as session:
                await session.execute(text(sql))
        except Exception as exc:
            caught.append(exc)
        else:
            raise AssertionError(f"{sql!r} did not fail")

    try:
        await attempt("SELECT * FROM no_such_table")  # a bug: not an outage
        await attempt("SELECT 1/0")
        bugs = list(caught)

        async def cut_mid_query() -> None:
            task = asyncio.create_task(attempt("SELECT pg_sleep(5)"))

            async def sleeping() -> bool:
                return bool(
                    await scalar(
                        direct_url,
                        "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)'",
                    )
                )

            await until(sleeping, 10, "the query to start")
            await proxy.cut("drop")
            await asyncio.wait_for(task, 10)

        await cut_mid_query()  # the connection dies under a query
        await attempt("SELECT 1")  # reconnecting meets a dropped connection
        await proxy.cut("refuse")
        await attempt("SELECT 1")  # reconnecting is refused
        outages = caught[len(bugs) :]
        await proxy.restore()
        async with db.transaction() as session:
            assert await session.scalar(text("SELECT 1")) == 1  # the same engine recovers
        await db.ping()
    finally:
        await db.dispose()

    assert [is_database_unavailable(e) for e in bugs] == [False, False]
    assert [is_database_unavailable(e) for e in outages] == [True, True, True]
    assert any(isinstance(e, DBAPIError) and e.connection_invalidated for e in outages)
    assert is_database_unavailable(DatabaseUnavailable("ping timed out"))


async def test_a_network_error_from_outside_the_database_is_not_an_outage() -> None:
    # The same kind of error as a lost database connection, from an HTTP client.
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        try:
            await session.get(f"http://127.0.0.1:{closed_port}/")
        except aiohttp.ClientConnectionError as exc:
            assert isinstance(exc, OSError)
            assert not is_database_unavailable(exc)
        else:
            raise AssertionError("nothing should listen there")
    assert not is_database_unavailable(ConnectionRefusedError(111, "raised by our own code"))


def test_on_sqlite_an_unopenable_file_is_an_outage_and_a_missing_table_is_a_bug(
    tmp_path: Path,
) -> None:
    with pytest.raises(sqlite3.OperationalError) as unopenable:
        sqlite3.connect(tmp_path / "missing-folder" / "desk.sqlite3")
    assert is_database_unavailable(unopenable.value)
    with sqlite3.connect(tmp_path / "desk.sqlite3") as connection:
        with pytest.raises(sqlite3.OperationalError) as missing_table:
            connection.execute("SELECT * FROM no_such_table")
    assert not is_database_unavailable(missing_table.value)
