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
from tests.fault.conftest import Server, rows, scalar, settled, until

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
    server: Server,
    sends: dict[str, Callable[[int], Awaitable[int | None]]],
    part_way: Callable[[dict[str, dict[int, int | None]]], Awaitable[bool]],
) -> dict[str, dict[int, int | None]]:
    """Send BURST messages of each kind in `sends`, interleaved, over about 1.5 s, and kill the
    server once `part_way(status so far)` holds, however fast or slow the machine is."""
    status: dict[str, dict[int, int | None]] = {kind: {} for kind in sends}
    kinds = list(sends)

    async def one(kind: str, n: int) -> None:
        await asyncio.sleep((n + kinds.index(kind) / len(kinds)) * 0.05)
        status[kind][n] = await sends[kind](n)

    tasks = [asyncio.create_task(one(kind, n)) for kind in kinds for n in range(BURST)]
    try:
        await until(lambda: part_way(status), 60, "the burst part-way in", every=0.02)
        server.kill()
        await server.exited(10)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    finally:
        for task in tasks:
            task.cancel()
    return status


async def test_kill_9_mid_burst_of_teams_activities_and_web_messages_then_restart_answers_each_once(
    database_url: str,
    connector: FakeBotConnector,
    servers: Callable[..., Awaitable[Server]],
) -> None:
    """Teams activities and web chat messages in one burst, so that one killed process and its
    restart serve both (starting a process is most of such a test's time)."""
    web_demo = {"EVIDENCE_DESK_WEB_DEMO": "true"}
    first = await servers(database_url, **SHORT_LEASES, **web_demo)
    connector.go_down(503)  # Teams answers pile up in the outbox while the burst arrives
    async with aiohttp.ClientSession() as session:

        def sends(server: Server) -> dict[str, Callable[[int], Awaitable[int | None]]]:
            return {
                "teams": lambda n: post_activity(session, server, activity(n, connector)),
                "web": lambda n: post_web(session, server, n),
            }

        async def part_way(status: dict[str, dict[int, int | None]]) -> bool:
            """A third of the activities acknowledged, and a third of the web messages taken
            in (journalled): those are acknowledged only once answered, so at the kill some
            are being answered."""
            teams = sum(code == 200 for code in status["teams"].values())
            web = await scalar(
                database_url, "SELECT count(*) FROM inbound_events WHERE platform = 'web'"
            )
            return teams >= BURST // 3 and int(web) >= BURST // 3

        status = await burst_then_kill(first, sends(first), part_way)
        assert any(code == 200 for code in status["teams"].values())
        assert not all(code == 200 for code in status["web"].values())
        second = await servers(database_url, **SHORT_LEASES, **web_demo)
        for kind, codes in status.items():
            for n, code in codes.items():
                # The Bot Framework sends an unacknowledged activity again; the page resends a
                # message under the same message id.
                if code != 200:
                    assert await sends(second)[kind](n) == 200
        connector.come_back()
        await until(lambda: settled(database_url), 90, "every activity and message answered")
    assert_each_conversation_answered_once(connector, BURST)
    threads = await rows(
        database_url,
        "SELECT thread, count(*) FROM web_messages WHERE author IS NULL GROUP BY thread",
    )
    answered = dict(threads)
    for n in range(BURST):
        assert answered.get(f"web-fault-{n}") == 1, (
            f"message {n} answered {answered.get(f'web-fault-{n}', 0)}x"
        )


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
