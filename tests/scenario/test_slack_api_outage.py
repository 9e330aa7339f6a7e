"""Slack's Web API refuses for a while (429s and 500s in turn): every answer arrives once after.

The bot runs in-process on real HTTP with signed events; Slack's Web API is the local fake,
which for a few seconds answers chat.postMessage with 429 (Retry-After: 1) and 500 by turns.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from tests.scenario.conftest import WARD, SlackWorld

QUESTIONS = ["library opening hours", "forgot my athens password", "how do I renew my books"]
MENTIONS = 9


async def mentions_during_outage(slack: SlackWorld, prefix: str) -> list[str]:
    threads = [f"1700000100.{n:06d}" for n in range(MENTIONS)]
    await asyncio.gather(
        *(
            slack.mention(QUESTIONS[n % len(QUESTIONS)], f"{prefix}{n}", ts=thread)
            for n, thread in enumerate(threads)
        )
    )
    return threads


async def until_each_thread_has_an_answer(slack: SlackWorld, threads: list[str]) -> Counter[str]:
    deadline = time.monotonic() + 30
    while True:
        posted = Counter(m.get("thread_ts") for m in slack.api.messages.get(WARD, []))
        if all(posted[thread] for thread in threads) or time.monotonic() > deadline:
            return posted
        await asyncio.sleep(0.1)


async def test_every_answer_is_delivered_once_after_an_outage_of_429s_and_500s(
    slack: SlackWorld,
) -> None:
    slack.api.outage("chat.postMessage", 2.0)
    threads = await mentions_during_outage(slack, "EvOut")
    posted = await until_each_thread_has_an_answer(slack, threads)
    assert slack.api.refused["chat.postMessage"] >= MENTIONS
    assert {thread: posted[thread] for thread in threads} == dict.fromkeys(threads, 1)


async def test_a_post_slack_took_before_failing_with_500_is_not_posted_again(
    slack: SlackWorld,
) -> None:
    slack.api.outage("chat.postMessage", 2.0, taken_despite_500=True)
    threads = await mentions_during_outage(slack, "EvTaken")
    posted = await until_each_thread_has_an_answer(slack, threads)
    await asyncio.sleep(1.5)  # time for any second copy to go out
    posted = Counter(m.get("thread_ts") for m in slack.api.messages.get(WARD, []))
    assert {thread: posted[thread] for thread in threads} == dict.fromkeys(threads, 1)
    assert slack.api.of("conversations.replies")  # it looked before posting again
