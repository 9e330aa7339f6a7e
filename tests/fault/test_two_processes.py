"""Two server processes against one PostgreSQL database and one Slack: every event is sent to
both at once (Slack's retries can land on different replicas), messages are queued for their
outbox workers to race for, and an overdue request is there for both escalation schedulers.
Each event is answered once, each message delivered once, each escalation sent once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date

import aiohttp
import pytest

from bot.db.session import Database
from bot.delivery.outbox import Destination, Outbox
from bot.messages import Intent, Reply
from tests.fakes.slack_api import FakeSlackApi
from tests.fault.conftest import (
    LIBRARY,
    Server,
    answers_per_thread,
    assert_each_answered_once,
    execute,
    mention_event,
    post_event,
    post_interaction,
    posts,
    request_submission,
    rows,
    scalar,
    settled,
    until,
)

pytestmark = pytest.mark.postgres

MENTIONS = 40
QUEUED = 30
CARD_VERSIONS = 5
REPLICA = {
    "EVIDENCE_DESK_AUTO_MIGRATE": "false",
    "EVIDENCE_DESK_ESCALATION_INTERVAL_SECONDS": "0.2",
    "EVIDENCE_DESK_OUTBOX_INTERVAL_SECONDS": "0.1",
}


async def test_two_replicas_answer_deliver_and_escalate_once(
    postgres_url: str, api: FakeSlackApi, servers: Callable[..., Awaitable[Server]]
) -> None:
    one, two = await asyncio.gather(
        servers(postgres_url, **REPLICA), servers(postgres_url, **REPLICA)
    )
    events = [mention_event(n, "Etwo") for n in range(MENTIONS)]
    async with aiohttp.ClientSession() as session:
        # A request, submitted through one replica; later made overdue for the schedulers.
        assert await post_interaction(session, one, request_submission(1, "TWOREPLICAS")) == 200

        async def both(n: int, event_id: str, event: dict[str, object]) -> list[int | None]:
            first, second = (one, two) if n % 2 else (two, one)
            return list(
                await asyncio.gather(
                    post_event(session, first, event_id, event),
                    post_event(session, second, event_id, event, retry=1),
                )
            )

        statuses = await asyncio.gather(
            *(both(n, event_id, event) for n, (event_id, event) in enumerate(events))
        )
        assert all(s == [200, 200] for s in statuses)

    # Messages queued straight into the outbox, as the ticket flow does, while both workers
    # poll: one per conversation, and a card with several versions (posted once, then updated).
    db = Database.from_url(postgres_url)
    try:
        outbox = Outbox(db)
        for n in range(QUEUED):
            await outbox.enqueue(
                Destination("slack", f"C0QUEUE{n:02d}"),
                Reply(text=f"queued message {n}", intent=Intent.SEARCH_REQUEST),
            )
        for version in range(CARD_VERSIONS):
            await outbox.enqueue(
                Destination("slack", "C0CARDS"),
                Reply(text=f"card version {version}", intent=Intent.SEARCH_REQUEST),
                card_key="fault:card:1",
            )
    finally:
        await db.dispose()
    reference = await scalar(
        postgres_url, "SELECT reference FROM tickets WHERE question LIKE '%TWOREPLICAS%'"
    )
    await execute(
        postgres_url,
        "UPDATE tickets SET due_date = :past WHERE reference = :ref",
        past=date(2020, 1, 6),
        ref=reference,
    )

    def overdue() -> list[object]:
        return [
            p
            for p in posts(api, channel=LIBRARY)
            if f"{reference} is overdue" in str(p.get("text"))
        ]

    async def all_done() -> bool:
        escalated = await scalar(postgres_url, "SELECT count(*) FROM escalations")
        return (
            len(answers_per_thread(api)) >= MENTIONS
            and all(posts(api, channel=f"C0QUEUE{n:02d}") for n in range(QUEUED))
            and len(api.of("chat.update")) + len(posts(api, channel="C0CARDS")) >= CARD_VERSIONS
            and int(escalated) >= 1
            and bool(overdue())
            and await settled(postgres_url)
        )

    await until(all_done, 90, "every event answered, message delivered and escalation sent")

    assert_each_answered_once(api, events)
    for n in range(QUEUED):
        assert len(posts(api, channel=f"C0QUEUE{n:02d}")) == 1
    assert len(posts(api, channel="C0CARDS")) == 1
    assert len(api.of("chat.update")) == CARD_VERSIONS - 1
    assert len(overdue()) == 1
    assert len(await rows(postgres_url, "SELECT id FROM escalations")) == 1
    cards = [p for p in posts(api, channel=LIBRARY) if "TWOREPLICAS" in str(p)]
    assert len(cards) == 1
