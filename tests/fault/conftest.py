"""Fault tests: real `python -m bot serve` processes, killed, stopped and restarted.

Each server is a separate process on a free loopback port with Slack in HTTP mode, its Web API
pointed at a `FakeSlackApi` in the test process, and its own SQLite file or PostgreSQL database
(a fresh one per test, copied from a database migrated once per session and dropped afterwards;
the PostgreSQL variants are skipped when there is no server, see tests/databases.py). Events
are sent signed, as Slack sends them. Every wait is bounded, and every process is killed in a
`finally`. Every test here is marked `slow` (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.db.session import Database
from handlers.intake import request_form
from tests.databases import (
    admin,
    copy_database_file,
    database_url_on,
    migrated_postgres_database,
    postgres_server,
    skip_reason,
)
from tests.fakes.slack_api import FakeSlackApi
from tests.signed import TEST_SECRET_KEY, form_state

SECRET = "fault-test-signing-secret"  # signs requests to a loopback test server only
WARD, LIBRARY = "C0WARD", "C0LIBRARY"
ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
QUESTIONS = [
    "forgot my athens password", "library opening hours", "how do I renew my books",
    "can I get an article the library doesn't have", "how do I contact the library",
]  # fmt: skip


def free_port() -> int:
    """A port free now. The server binds it a moment later, so another process may take it
    first: `Server.start` then starts again on another (see `listens`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listens(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds the listening socket on loopback `port` (Linux /proc), so a
    stranger that took the port is never mistaken for our server; None where /proc cannot say."""
    try:
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
        owned = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
    except OSError:
        return None
    listening = {
        f"socket:[{fields[9]}]"
        for fields in (line.split() for line in table)
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    }
    return bool(listening & owned)


def signed_headers(body: str, content_type: str = "application/json") -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


async def until(
    check: Callable[[], Awaitable[bool]], within: float, what: str, every: float = 0.1
) -> None:
    """Poll `check` until it holds; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within:.0f} s waiting for {what}")
        await asyncio.sleep(every)


# ---- servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    """One `python -m bot serve` process."""

    database_url: str
    api: FakeSlackApi
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, within: float = 90, attempts: int = 3) -> None:
        """Start and wait for /readyz; on a port taken meanwhile, again on another port."""
        for _ in range(attempts - 1):
            if await self._start(within):
                return
            self.port = free_port()
        if not await self._start(within):
            raise AssertionError(f"port {self.port} was taken each time; see {self.log_path}")

    async def _start(self, within: float) -> bool:
        """True once ready; False when its port turned out to be taken by another process."""
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-fault",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.api.url,
            "EVIDENCE_DESK_DATABASE_URL": self.database_url,
            "EVIDENCE_DESK_KB_RELOAD_SECONDS": "0",
            "EVIDENCE_DESK_LOG_LEVEL": "INFO",
            "EVIDENCE_DESK_FEEDBACK_SALT": "fault-salt",
            "EVIDENCE_DESK_SECRET_KEY": TEST_SECRET_KEY,
            "EVIDENCE_DESK_GENERAL_QUEUE": f"slack:{LIBRARY}",
            "EVIDENCE_DESK_OUTBOX_INTERVAL_SECONDS": "0.2",
            "EVIDENCE_DESK_REPLAY_INTERVAL_SECONDS": "0.3",
            "EVIDENCE_DESK_ESCALATION_INTERVAL_SECONDS": "3600",
            "EVIDENCE_DESK_UNCLAIMED_ESCALATION_WORKING_HOURS": "100000",
            **self.env,
        }
        env.pop("SLACK_APP_TOKEN", None)
        log = self.log_path.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "serve", "--port", str(self.port),
                cwd=ROOT, env=env, stdout=log, stderr=log,
            )  # fmt: skip
        finally:
            log.close()
        try:
            await self.wait_ready(within)
        except AssertionError:
            if f"Port {self.port} on 127.0.0.1 is already in use" not in self.log():
                raise
            return False
        return True

    async def wait_ready(self, within: float) -> None:
        """Until our process serves /readyz with 200 on our port (not a stranger on it)."""
        async with aiohttp.ClientSession() as session:

            async def ready() -> bool:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise AssertionError(f"server exited at start; see {self.log_path}")
                try:
                    async with session.get(f"{self.url}/readyz") as response:
                        answered = response.status == 200
                except aiohttp.ClientError:
                    return False
                return answered and listens(self.process.pid, self.port) is not False

            await until(ready, within, f"{self.url}/readyz")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when a container is killed or a node dies."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)

    async def exited(self, within: float) -> int:
        """The exit code, once the process has exited (fails after `within` seconds)."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within)

    async def stop(self) -> None:
        """Always safe: SIGKILL if still running, then reap (bounded)."""
        if self.process is None:
            return
        self.kill()
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await asyncio.wait_for(self.process.wait(), 10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi()
    await fake.start()
    try:
        yield fake
    finally:
        fake.release()
        await fake.close()


@pytest.fixture
async def servers(
    api: FakeSlackApi, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """`await servers(database_url, **env)` starts a server; all are killed at the end."""
    started: list[Server] = []

    async def start(database_url: str, **env: str) -> Server:
        server = Server(database_url, api, tmp_path / f"server-{len(started)}.log", env=dict(env))
        started.append(server)
        await server.start()
        return server

    try:
        yield start
    finally:
        for server in started:
            await server.stop()


def assert_each_answered_once(api: FakeSlackApi, events: list[tuple[str, dict[str, Any]]]) -> None:
    """One bot post in each event's thread: none lost, none doubled."""
    threads = answers_per_thread(api)
    for event_id, event in events:
        assert threads.get(event["ts"]) == 1, f"{event_id} answered {threads.get(event['ts'])}x"


# ---- databases -------------------------------------------------------------------------------


#: The session's migrated PostgreSQL database that each test's fresh one is copied from.
_TEMPLATE: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _postgres_template() -> Iterator[None]:
    """Migrate once per session; `fresh_postgres` copies it (CREATE DATABASE ... TEMPLATE)."""
    server = postgres_server()
    if server is None:
        yield
        return
    with migrated_postgres_database(server, "evidence_desk_fault_template") as template:
        _TEMPLATE[:] = [make_url(template.url).database or ""]
        try:
            yield
        finally:
            _TEMPLATE.clear()


@contextlib.asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards (skips without the server)."""
    server = postgres_server()
    if server is None or not _TEMPLATE:
        pytest.skip(skip_reason())
    name = f"evidence_desk_fault_{secrets.token_hex(6)}"
    await admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE[0]}"')
    try:
        yield database_url_on(server, name)
    finally:
        await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres() as url:
        yield url


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, sqlite_template: Path) -> AsyncIterator[str]:
    """A migrated database: a copy of the session's SQLite file, or a fresh PostgreSQL one."""
    if request.param == "sqlite":
        yield copy_database_file(
            sqlite_template, request.getfixturevalue("tmp_path") / "desk.sqlite3"
        )
        return
    async with fresh_postgres() as url:
        yield url


async def scalar(database_url: str, sql: str, **params: Any) -> Any:
    """One value from the servers' database, read with a short-lived engine of our own."""
    db = Database.from_url(database_url)
    try:
        async with db.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()
    finally:
        await db.dispose()


async def execute(database_url: str, sql: str, **params: Any) -> None:
    """Change the servers' database directly (committed)."""
    db = Database.from_url(database_url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(text(sql), params)
    finally:
        await db.dispose()


async def rows(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    db = Database.from_url(database_url)
    try:
        async with db.engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(sql), params)).all()]
    finally:
        await db.dispose()


async def settled(database_url: str) -> bool:
    """Nothing left to do: every journalled event is done and no message is waiting."""
    unfinished = await scalar(
        database_url, "SELECT count(*) FROM inbound_events WHERE done_at IS NULL"
    )
    pending = await scalar(database_url, "SELECT count(*) FROM outbox WHERE status = 'pending'")
    return int(unfinished) == 0 and int(pending) == 0


# ---- Slack requests --------------------------------------------------------------------------


def mention_event(n: int, prefix: str) -> tuple[str, dict[str, Any]]:
    """A distinct app_mention: its ts (the thread the answer goes to) is its marker."""
    ts = f"1700000000.{n:06d}"
    event = {"type": "app_mention", "user": f"U0ASKER{n % 7}", "channel": WARD, "ts": ts,
             "text": f"<@UBOTUSER> {QUESTIONS[n % len(QUESTIONS)]}"}  # fmt: skip
    return f"{prefix}{n}", event


def event_body(event_id: str, event: dict[str, Any]) -> str:
    return json.dumps(
        {"type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP",
         "event_id": event_id, "event_time": int(time.time()), "event": event}
    )  # fmt: skip


async def post_event(
    session: aiohttp.ClientSession,
    server: Server,
    event_id: str,
    event: dict[str, Any],
    retry: int | None = None,
) -> int | None:
    """The HTTP status, or None when the server did not answer (refused, reset, dead)."""
    body = event_body(event_id, event)
    headers = signed_headers(body)
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return await _post_to_slack_events(session, server, body, headers)


def request_submission(n: int, marker: str) -> dict[str, Any]:
    """The request modal submitted, as tests/scenario/test_slack.py does; `marker` is in the
    question, and the confirmation goes to the thread 1700000100.<n>."""
    state = form_state(WARD, submission_thread(n))
    values = {
        "question": {"input": {"type": "plain_text_input", "value": f"falls prevention {marker}"}},
        "purpose": {"input": {"type": "static_select",
                              "selected_option": {"value": "service_development"}}},
    }  # fmt: skip
    return {
        "type": "view_submission", "team": {"id": "T0TEAM"}, "api_app_id": "A0APP",
        "user": {"id": "U0REQUESTER", "name": "someone"}, "trigger_id": f"trig-{n}",
        "view": {"id": f"V0FAULT{n}", "type": "modal", "callback_id": "request_submit",
                 "private_metadata": state, "state": {"values": values},
                 "blocks": [{"block_id": f.name} for f in request_form().fields]},
    }  # fmt: skip


def submission_thread(n: int) -> str:
    return f"1700000100.{n:06d}"


async def post_interaction(
    session: aiohttp.ClientSession, server: Server, payload: dict[str, Any]
) -> int | None:
    body = urlencode({"payload": json.dumps(payload)})
    headers = signed_headers(body, "application/x-www-form-urlencoded")
    return await _post_to_slack_events(session, server, body, headers)


async def _post_to_slack_events(
    session: aiohttp.ClientSession, server: Server, body: str, headers: dict[str, str]
) -> int | None:
    """The HTTP status, or None when the server did not answer (refused, reset, dead)."""
    try:
        async with session.post(
            f"{server.url}/slack/events",
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


def posts(api: FakeSlackApi, *, channel: str | None = None) -> list[dict[str, Any]]:
    found = api.of("chat.postMessage")
    return [p for p in found if channel is None or p.get("channel") == channel]


def answers_per_thread(api: FakeSlackApi) -> dict[str, int]:
    counts: dict[str, int] = {}
    for post in posts(api, channel=WARD):
        thread = str(post.get("thread_ts") or "")
        counts[thread] = counts.get(thread, 0) + 1
    return counts
