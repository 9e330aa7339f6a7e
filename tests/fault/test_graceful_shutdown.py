"""SIGTERM in the middle of a burst: the process stops taking work, lets what it acknowledged
finish, hands back what cannot finish in the grace period (its journal lease released), makes
a last outbox round and exits cleanly; the next process replays the handed-back events at once
rather than after their lease, and every event is answered exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp

from tests.fakes.slack_api import FakeSlackApi
from tests.fault.conftest import (
    Server,
    answers_per_thread,
    mention_event,
    post_event,
    rows,
    scalar,
    settled,
    until,
)

MENTIONS = 300  # at 600/s, faster than one process answers them (FAQs answered from memory too)
REPLICA = {
    # Long enough that only a hand-back lets the next process replay within this test.
    "EVIDENCE_DESK_INBOUND_LEASE_SECONDS": "120",
    # Answers never wait on Slack (they go through the outbox), so to have events in flight
    # at SIGTERM this process answers one at a time, and hands back at once what is queued.
    "EVIDENCE_DESK_ANSWER_CONCURRENCY": "1",
    "EVIDENCE_DESK_SHUTDOWN_GRACE_SECONDS": "0",
    # With no grace the last outbox round is cut off: its rows are in doubt until their lease
    # runs out, then looked for at Slack and posted once.
    "EVIDENCE_DESK_OUTBOX_LEASE_SECONDS": "2",
}


async def test_sigterm_mid_burst_finishes_or_hands_back(
    database_url: str, api: FakeSlackApi, servers: Callable[..., Awaitable[Server]]
) -> None:
    first = await servers(database_url, **REPLICA)
    events = [mention_event(n, "Eterm") for n in range(MENTIONS)]
    status: dict[str, int | None] = {}

    async with aiohttp.ClientSession() as session:

        async def mention(n: int) -> None:
            await asyncio.sleep(n / 600)
            event_id, event = events[n]
            status[event_id] = await post_event(session, first, event_id, event)

        burst = [asyncio.create_task(mention(n)) for n in range(MENTIONS)]
        try:

            async def a_third_in() -> bool:
                acked = sum(s == 200 for s in status.values())
                in_flight = await scalar(
                    database_url, "SELECT count(*) FROM inbound_events WHERE done_at IS NULL"
                )
                return acked >= MENTIONS // 3 and int(in_flight) >= 1

            await until(a_third_in, 20, "a third of the burst acknowledged", every=0.01)
            first.terminate()
            assert await first.exited(30) == 0
            await asyncio.wait_for(asyncio.gather(*burst), 20)
        finally:
            for task in burst:
                task.cancel()

        acked = {event_id for event_id, s in status.items() if s == 200}
        assert 0 < len(acked) < MENTIONS, "SIGTERM was not in the middle of the burst"
        # Nothing acknowledged is left under the dead process's lease: finished, or handed back.
        unfinished = await rows(
            database_url,
            "SELECT event_id, claimed_until FROM inbound_events WHERE done_at IS NULL",
        )
        assert unfinished, "no event was in flight at SIGTERM"
        assert all(claimed_until is None for _, claimed_until in unfinished)
        assert {event_id for event_id, _ in unfinished} <= acked
        answered_before = answers_per_thread(api)
        api.release()

        second = await servers(database_url, **REPLICA)
        by_id = dict(events)
        for event_id in sorted(set(by_id) - acked):  # Slack retries what was not acknowledged
            assert await post_event(session, second, event_id, by_id[event_id], retry=1) == 200

        async def everything_answered() -> bool:
            threads = answers_per_thread(api)
            return all(event["ts"] in threads for _, event in events) and await settled(
                database_url
            )

        await until(everything_answered, 20, "every event answered (handed-back ones at once)")

    threads = answers_per_thread(api)
    for event_id, event in events:
        assert threads.get(event["ts"]) == 1, f"{event_id} answered {threads.get(event['ts'])}x"
    # Events that finished during the grace period were answered by the first process.
    assert answered_before
