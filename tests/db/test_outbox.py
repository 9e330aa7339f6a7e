"""The outbox: stored before sending, delivered once, retried after failures and rate limits."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.db.models import OutboxMessage, PostedMessage
from bot.db.session import Database
from bot.delivery.outbox import DeliveryError, Destination, Outbox
from bot.messages import Intent, Reply
from tests.db.conftest import FakeClock
from tests.db.messengers import RecordingMessenger

WARD = Destination("slack", "C_WARD", "1700000000.000100")


def reply(text: str) -> Reply:
    return Reply(text=text, intent=Intent.SEARCH_REQUEST)


async def test_queued_message_is_delivered_once(database: Database, clock: FakeClock) -> None:
    outbox, slack = Outbox(database, clock), RecordingMessenger()
    await outbox.enqueue(WARD, reply("hello"))
    assert await outbox.deliver_due({"slack": slack}) == 1
    assert await outbox.deliver_due({"slack": slack}) == 0
    assert slack.posts == [(WARD, "hello")]


async def test_a_round_for_one_platform_leaves_another_platforms_messages_untried(
    database: Database, clock: FakeClock
) -> None:
    outbox, terminal, slack = Outbox(database, clock), RecordingMessenger(), RecordingMessenger()
    await outbox.enqueue(WARD, reply("for slack"))
    await outbox.enqueue(Destination("cli", "C_WARD"), reply("for the terminal"))
    assert await outbox.deliver_due({"cli": terminal}, only_platforms={"cli"}) == 1
    # Not attempted (no "no messenger" failure, no backoff): due for Slack's worker at once.
    assert await outbox.deliver_due({"slack": slack}) == 1
    assert [text for _, text in slack.posts] == ["for slack"]


async def test_rate_limited_message_waits_for_retry_after(
    database: Database, clock: FakeClock
) -> None:
    outbox = Outbox(database, clock)
    slack = RecordingMessenger(failures=[DeliveryError("429", retry_after=30)])
    await outbox.enqueue(WARD, reply("hello"))
    assert await outbox.deliver_due({"slack": slack}) == 0
    clock.advance(seconds=29)
    assert await outbox.deliver_due({"slack": slack}) == 0
    clock.advance(seconds=2)
    assert await outbox.deliver_due({"slack": slack}) == 1
    assert len(slack.posts) == 1


async def test_platform_outage_delays_but_loses_nothing(
    database: Database, clock: FakeClock
) -> None:
    outbox = Outbox(database, clock)
    slack = RecordingMessenger(failures=[DeliveryError("500")] * 3)
    for n in range(3):
        await outbox.enqueue(WARD, reply(f"message {n}"))
    for _ in range(10):
        await outbox.deliver_due({"slack": slack})
        clock.advance(minutes=1)
    assert sorted(text for _, text in slack.posts) == ["message 0", "message 1", "message 2"]
    assert await outbox.depth() == (0, 0.0)


async def test_card_is_posted_once_then_updated_in_place(
    database: Database, clock: FakeClock
) -> None:
    outbox, slack = Outbox(database, clock), RecordingMessenger()
    await outbox.enqueue(WARD, reply("v1"), card_key="ticket:KLS-2026-00001:card")
    await outbox.deliver_due({"slack": slack})
    await outbox.enqueue(WARD, reply("v2"), card_key="ticket:KLS-2026-00001:card")
    await outbox.deliver_due({"slack": slack})
    assert slack.posts == [(WARD, "v1")]
    assert slack.updates == [("ts-1", "v2")]


async def test_two_workers_deliver_each_message_once(database: Database, clock: FakeClock) -> None:
    outbox, slack = Outbox(database, clock), RecordingMessenger()
    for n in range(20):
        await outbox.enqueue(WARD, reply(f"m{n}"))
    delivered = await asyncio.gather(
        outbox.deliver_due({"slack": slack}), Outbox(database, clock).deliver_due({"slack": slack})
    )
    assert sum(delivered) == 20
    assert sorted(text for _, text in slack.posts) == sorted(f"m{n}" for n in range(20))


async def test_message_for_an_unconfigured_platform_stays_queued(
    database: Database, clock: FakeClock
) -> None:
    outbox = Outbox(database, clock)
    await outbox.enqueue(Destination("teams", "19:abc"), reply("hello"))
    assert await outbox.deliver_due({}) == 0
    assert (await outbox.depth())[0] == 1


async def test_permanent_failure_is_not_retried(database: Database, clock: FakeClock) -> None:
    outbox = Outbox(database, clock)
    slack = RecordingMessenger(failures=[DeliveryError("channel_not_found", permanent=True)])
    await outbox.enqueue(WARD, reply("hello"))
    await outbox.deliver_due({"slack": slack})
    clock.advance(hours=1)
    assert await outbox.deliver_due({"slack": slack}) == 0
    assert await outbox.depth() == (0, 0.0)


async def test_batched_messages_keep_their_order_with_a_message_queued_between_them(
    database: Database, clock: FakeClock
) -> None:
    outbox, slack = Outbox(database, clock), RecordingMessenger()
    async with database.transaction() as session, outbox.batched(session) as answers:
        await answers.add(WARD, reply("first answer"))
        outbox.add(session, WARD, reply("a notice queued while answering the second"))
        await answers.add(WARD, reply("second answer"))
    assert await outbox.deliver_due({"slack": slack}) == 3
    assert [text for _, text in slack.posts] == [
        "first answer", "a notice queued while answering the second", "second answer"
    ]  # fmt: skip


async def test_batched_messages_come_before_a_message_flushed_by_a_query_in_between(
    database: Database, clock: FakeClock
) -> None:
    outbox, slack = Outbox(database, clock), RecordingMessenger()
    async with database.transaction() as session, outbox.batched(session) as answers:
        await answers.add(WARD, reply("first answer"))
        outbox.add(session, WARD, reply("a notice"))
        await session.execute(select(OutboxMessage.id))  # the ORM flushes the notice here
        await answers.add(WARD, reply("second answer"))
    assert await outbox.deliver_due({"slack": slack}) == 3
    assert [text for _, text in slack.posts] == ["first answer", "a notice", "second answer"]


async def test_batched_messages_are_not_written_when_the_transaction_fails(
    database: Database, clock: FakeClock
) -> None:
    outbox, slack = Outbox(database, clock), RecordingMessenger()
    try:
        async with database.transaction() as session, outbox.batched(session) as answers:
            await answers.add(WARD, reply("never sent"))
            raise RuntimeError("the answering failed")
    except RuntimeError:
        pass
    assert await outbox.deliver_due({"slack": slack}) == 0


async def test_the_worker_is_woken_for_batched_messages_a_flush_wrote_early(
    database: Database, clock: FakeClock
) -> None:
    outbox, wakes = Outbox(database, clock), []
    outbox.on_commit(lambda: wakes.append(1))
    async with database.transaction() as session, outbox.batched(session) as answers:
        await answers.add(WARD, reply("an answer"))
        session.add(PostedMessage(card_key="k", platform="slack", channel_id="C", message_id="1"))
        await session.flush()  # writes the batched answer before the block ends
    assert wakes == [1]
