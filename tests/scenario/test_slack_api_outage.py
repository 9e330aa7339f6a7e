"""Slack's Web API refuses for a while (429s and 500s in turn): every answer arrives once after.

The bot runs in-process on real HTTP with signed events; Slack's Web API is the local fake,
which for a few seconds answers chat.postMessage with 429 (Retry-After: 1) and 500 by turns.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.keys import DATABASE
from tests.fakes.drain import drain
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


async def posts_per_thread_once_drained(slack: SlackWorld) -> Counter[str]:
    """Every message in the ward channel by thread, once the bot has nothing pending: the
    fake keeps what it took even when it answered 500, so a second copy is counted too."""
    await drain(slack.app[DATABASE], within=30)
    return Counter(m.get("thread_ts") for m in slack.api.messages.get(WARD, []))


async def test_every_answer_is_delivered_once_after_an_outage_of_429s_and_500s(
    slack: SlackWorld,
) -> None:
    slack.api.outage("chat.postMessage", 2.0)
    threads = await mentions_during_outage(slack, "EvOut")
    posted = await posts_per_thread_once_drained(slack)
    assert slack.api.refused["chat.postMessage"] >= MENTIONS
    assert posted == dict.fromkeys(threads, 1)


async def test_a_post_slack_took_before_failing_with_500_is_not_posted_again(
    slack: SlackWorld,
) -> None:
    slack.api.outage("chat.postMessage", 2.0, taken_despite_500=True)
    threads = await mentions_during_outage(slack, "EvTaken")
    posted = await posts_per_thread_once_drained(slack)
    assert posted == dict.fromkeys(threads, 1)
    assert slack.api.of("conversations.replies")  # it looked before posting again
