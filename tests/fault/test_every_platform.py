"""The fault tests' promise for Teams and the web chat too: real `python -m bot serve`
processes, killed and restarted, a Bot Framework connector that goes down; every message is
answered exactly once.

Teams runs in local mode here (no MicrosoftAppId: loopback only), so activities are posted
unsigned from this process; the bot's answers travel through botbuilder's real connector
client to a fake connector in this process (tests/fakes/bot_connector.py). Each activity
comes from its own personal chat, so "answered once" is one accepted post per conversation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.fakes.bot_connector import FakeBotConnector
from tests.fault.conftest import Server, rows, settled, until

SHORT_LEASES = {
    "EVIDENCE_DESK_INBOUND_LEASE_SECONDS": "2",
    "EVIDENCE_DESK_OUTBOX_LEASE_SECONDS": "2",
}
QUESTIONS = ["forgot my athens password", "library opening hours", "how do I renew my books"]
BURST = 30


def activity(n: int, connector: FakeBotConnector) -> dict[str, Any]:
    """A personal-chat message, as the Bot Framework posts it; conversation n is its marker."""
    return {
        "type": "message", "id": f"f:fault{n:04d}", "channelId": "msteams",
        "serviceUrl": connector.url, "timestamp": "2026-03-02T10:00:00.000Z",
        "from": {"id": f"29:user-{n}", "name": f"Nurse {n}", "aadObjectId": f"aad-{n}"},
        "recipient": {"id": "28:evidence-desk-bot", "name": "Evidence Desk"},
        "conversation": {"id": conversation(n), "conversationType": "personal", "tenantId": "t1"},
        "channelData": {"tenant": {"id": "t1"}}, "text": QUESTIONS[n % len(QUESTIONS)],
    }  # fmt: skip


def conversation(n: int) -> str:
    return f"a:personal-fault-{n:04d}"


async def post_activity(
    session: aiohttp.ClientSession, server: Server, body: dict[str, Any]
) -> int | None:
    try:
        async with session.post(
            f"{server.url}/api/messages", json=body, timeout=aiohttp.ClientTimeout(total=10)
        ) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


def assert_each_conversation_answered_once(connector: FakeBotConnector, count: int) -> None:
    answered = connector.answered_per_conversation()
    for n in range(count):
        assert answered.get(conversation(n)) == 1, (
            f"activity {n} answered {answered.get(conversation(n), 0)}x"
        )


async def burst_then_kill(
    server: Server, send: Callable[[int], Awaitable[int | None]], kill_after: float
) -> dict[int, int | None]:
    """Send BURST messages over about 1.5 s and kill the server part-way through."""
    status: dict[int, int | None] = {}

    async def one(n: int) -> None:
        await asyncio.sleep(n * 0.05)
        status[n] = await send(n)

    tasks = [asyncio.create_task(one(n)) for n in range(BURST)]
    await asyncio.sleep(kill_after)
    server.kill()
    await server.exited(10)
    await asyncio.gather(*tasks)
    return status


async def test_kill_9_mid_burst_of_teams_activities_then_restart_answers_each_once(
    database_url: str,
    connector: FakeBotConnector,
    servers: Callable[..., Awaitable[Server]],
) -> None:
    first = await servers(database_url, **SHORT_LEASES)
    connector.go_down(503)  # answers pile up in the outbox while the burst arrives
    async with aiohttp.ClientSession() as session:
        status = await burst_then_kill(
            first, lambda n: post_activity(session, first, activity(n, connector)), 0.8
        )
        assert any(s == 200 for s in status.values()), "nothing was acknowledged before the kill"
        second = await servers(database_url, **SHORT_LEASES)
        for n, code in status.items():
            if code != 200:  # the Bot Framework sends an unacknowledged activity again
                assert await post_activity(session, second, activity(n, connector)) == 200
        connector.come_back()
        await until(lambda: settled(database_url), 90, "every activity answered")
    assert_each_conversation_answered_once(connector, BURST)


async def test_teams_answers_wait_out_a_connector_outage_and_arrive_once(
    database_url: str,
    connector: FakeBotConnector,
    servers: Callable[..., Awaitable[Server]],
) -> None:
    server = await servers(database_url)
    connector.go_down(500)
    async with aiohttp.ClientSession() as session:
        for n in range(10):
            assert await post_activity(session, server, activity(n, connector)) == 200
        await until(lambda: _failed_attempts(connector, 10), 30, "the bot to meet the outage")
        connector.come_back()
        await until(lambda: settled(database_url), 60, "every activity answered")
    assert_each_conversation_answered_once(connector, 10)


async def _failed_attempts(connector: FakeBotConnector, at_least: int) -> bool:
    return sum(not call.ok for call in connector.calls) >= at_least


async def post_web(session: aiohttp.ClientSession, server: Server, n: int) -> int | None:
    body = {"text": QUESTIONS[n % len(QUESTIONS)], "user": f"web-fault-{n}",
            "thread": f"web-fault-{n}", "message_id": f"m-fault-{n}"}  # fmt: skip
    try:
        async with session.post(
            f"{server.url}/chat/api/message", data=json.dumps(body),
            headers={"Content-Type": "application/json"}, timeout=aiohttp.ClientTimeout(total=10),
        ) as response:  # fmt: skip
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


async def test_kill_9_mid_burst_of_web_messages_then_resend_answers_each_once(
    database_url: str, servers: Callable[..., Awaitable[Server]]
) -> None:
    web_demo = {"EVIDENCE_DESK_WEB_DEMO": "true"}
    first = await servers(database_url, **SHORT_LEASES, **web_demo)
    async with aiohttp.ClientSession() as session:
        status = await burst_then_kill(first, lambda n: post_web(session, first, n), 0.8)
        second = await servers(database_url, **SHORT_LEASES, **web_demo)
        for n, code in status.items():
            if code != 200:  # the page sends it again, under the same message id
                assert await post_web(session, second, n) == 200
        await until(lambda: settled(database_url), 60, "every message answered")
    threads = await rows(
        database_url,
        "SELECT thread, count(*) FROM web_messages WHERE author IS NULL GROUP BY thread",
    )
    answered = dict(threads)
    for n in range(BURST):
        assert answered.get(f"web-fault-{n}") == 1, (
            f"message {n} answered {answered.get(f'web-fault-{n}', 0)}x"
        )
