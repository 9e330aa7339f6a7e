"""kill -9 in the middle of a burst, restart on the same database: every acknowledged event is
answered exactly once, and every submitted request is exactly one ticket with one card.

The fake Slack API holds its answers to chat.postMessage and chat.postEphemeral: the first
answer's post is held, the answers behind it pile up, then it is let through and the next
delivery round (many conversations at once) is held in turn. So at the moment of the kill
there are, for certain:
  - answers Slack accepted (they are in the channel) that the process never heard back about:
    the outbox must find them (message metadata) rather than post them again;
  - answers claimed by the outbox but never tried;
  - acknowledged events still waiting to be answered (this process answers one at a time):
    the journal must replay them;
  - events the dead process never acknowledged: the test retries them as Slack would (same
    event_id, X-Slack-Retry-Num), and resubmits unacknowledged forms as the person would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from tests.fakes.slack_api import FakeSlackApi
from tests.fault.conftest import (
    LIBRARY,
    Server,
    answers_per_thread,
    assert_each_answered_once,
    mention_event,
    post_event,
    post_interaction,
    posts,
    request_submission,
    rows,
    scalar,
    settled,
    submission_thread,
    until,
)

MENTIONS = 48
SUBMISSIONS = 6
NHS_NUMBER = "943 476 5919"
SHORT_LEASES = {
    "EVIDENCE_DESK_INBOUND_LEASE_SECONDS": "2",
    "EVIDENCE_DESK_OUTBOX_LEASE_SECONDS": "2",
}


def marker(n: int) -> str:
    return f"FAULTMARK{n:03d}"


async def test_kill_9_mid_burst_then_restart_answers_each_event_once(
    database_url: str, api: FakeSlackApi, servers: Callable[..., Awaitable[Server]]
) -> None:
    # Answers never wait on Slack (they go through the outbox): this process answers one
    # event at a time, so some acknowledged events are still unanswered when it is killed.
    first = await servers(database_url, **SHORT_LEASES, EVIDENCE_DESK_ANSWER_CONCURRENCY="1")
    api.hold("chat.postMessage")
    events = [mention_event(n, "Ecrash") for n in range(MENTIONS)]
    for n in range(0, MENTIONS, 8):  # every 8th asks with an NHS number: a private warning first
        events[n][1]["text"] += f" for patient {NHS_NUMBER}"
    status: dict[str, int | None] = {}
    submitted: dict[int, int | None] = {}

    async with aiohttp.ClientSession() as session:
        # The last quarter of the burst is still on its way when the process dies, however
        # fast the first three quarters were acknowledged and answered.
        dying = asyncio.Event()
        late = MENTIONS - MENTIONS // 4

        async def mention(n: int) -> None:
            if n >= late:
                await dying.wait()
                await asyncio.sleep((n - late) * 0.04)
            else:
                await asyncio.sleep(n * 0.04)  # a burst over about a second and a half
            event_id, event = events[n]
            status[event_id] = await post_event(session, first, event_id, event)

        async def submit(n: int) -> None:
            await asyncio.sleep(n * 0.45)
            submitted[n] = await post_interaction(session, first, request_submission(n, marker(n)))

        burst = [asyncio.create_task(mention(n)) for n in range(MENTIONS)]
        burst += [asyncio.create_task(submit(n)) for n in range(SUBMISSIONS)]
        try:

            async def a_third_in() -> bool:
                acked = sum(s == 200 for s in status.values())
                outbox = dict(
                    await rows(
                        database_url,
                        "SELECT claimed_until IS NULL, count(*) FROM outbox "
                        "WHERE status = 'pending' GROUP BY 1",
                    )
                )
                piled_up, in_round = outbox.get(True, 0), outbox.get(False, 0)
                return (
                    acked >= MENTIONS // 3
                    and piled_up >= 6
                    # a delivery round is under way, its first posts held at Slack
                    and in_round >= 1
                    and len(api.of("chat.postMessage")) >= 1
                )

            await until(a_third_in, 20, "a third of the burst acknowledged", every=0.05)
            first_round = len(api.of("chat.postMessage"))
            api.release("chat.postMessage")  # the first round ends ...
            api.hold("chat.postMessage")  # ... and the next, with what piled up, is held

            async def answers_held() -> bool:
                return len(api.of("chat.postMessage")) >= first_round + 6

            try:
                await until(answers_held, 20, "answers accepted but not answered", every=0.01)
            except AssertionError as exc:
                outbox = await rows(
                    database_url,
                    "SELECT status, claimed_until IS NULL, count(*) FROM outbox GROUP BY 1, 2",
                )
                raise AssertionError(
                    f"{exc}: {first_round} held before, {len(api.of('chat.postMessage'))} "
                    f"now; outbox {outbox}"
                ) from exc
            in_flight = await scalar(
                database_url, "SELECT count(*) FROM inbound_events WHERE done_at IS NULL"
            )
            dying.set()
            first.kill()
            assert await first.exited(10) == -9
            await asyncio.wait_for(asyncio.gather(*burst), 20)
        finally:
            for task in burst:
                task.cancel()
        accepted_unseen = len(api.of("chat.postMessage"))
        api.release()

        unanswered = [event_id for event_id, s in status.items() if s != 200]
        assert 0 < len(unanswered) < MENTIONS, "the kill was not in the middle of the burst"
        assert accepted_unseen >= 7  # Slack took answers the dead process never heard about
        # Events acknowledged and not yet answered at the kill (when the timing gave some) are
        # replayed; tests/db/test_inbox.py and test_graceful_shutdown pin replay for certain.
        logging.getLogger(__name__).info("acknowledged but unanswered at the kill: %s", in_flight)

        second = await servers(database_url, **SHORT_LEASES)
        by_id = dict(events)
        for event_id in unanswered:  # Slack retries what was not acknowledged
            assert await post_event(session, second, event_id, by_id[event_id], retry=1) == 200
        for n in range(SUBMISSIONS):  # the person submits the form again if it failed
            if submitted.get(n) != 200:
                assert (
                    await post_interaction(session, second, request_submission(n, marker(n))) == 200
                )

        async def everything_answered() -> bool:
            threads = answers_per_thread(api)
            return (
                all(event["ts"] in threads for _, event in events)
                and len(posts(api, channel=LIBRARY)) >= SUBMISSIONS
                and await settled(database_url)
            )

        await until(everything_answered, 30, "every event answered and the outbox drained")

    assert_each_answered_once(api, events)
    threads = answers_per_thread(api)
    for n in range(SUBMISSIONS):
        tickets = await rows(
            database_url, "SELECT reference FROM tickets WHERE question LIKE :m", m=f"%{marker(n)}%"
        )
        assert len(tickets) == 1, f"submission {n} made {len(tickets)} tickets"
        cards = [p for p in posts(api, channel=LIBRARY) if marker(n) in str(p)]
        assert len(cards) == 1, f"submission {n}: {len(cards)} cards posted"
        # The confirmation is queued with the ticket, before the form is acknowledged.
        assert threads.get(submission_thread(n)) == 1
    # The recovery looked for the answers it was unsure about instead of posting them again.
    assert api.of("conversations.replies")
