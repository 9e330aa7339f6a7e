"""The answer gate: acknowledgements first, answering paused but never stopped by a burst."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.backpressure import AnswerGate
from tests.places import cancel_a_waiter


async def started_within(gate: AnswerGate, count: int, seconds: float = 0.05) -> int:
    """How many of `count` answers start within `seconds` (they then wait to be let go)."""
    started = 0
    release = asyncio.Event()

    async def answer() -> None:
        nonlocal started
        async with gate.answering():
            started += 1
            await release.wait()

    tasks = [asyncio.create_task(answer()) for _ in range(count)]
    await asyncio.sleep(seconds)
    seen = started
    release.set()
    for task in tasks:
        task.cancel()  # the ones still waiting for a place
    await asyncio.gather(*tasks, return_exceptions=True)
    return seen


async def test_with_nothing_to_acknowledge_up_to_the_limit_answer_at_once() -> None:
    assert await started_within(AnswerGate(limit=3), 5) == 3


async def test_while_a_request_awaits_its_acknowledgement_fewer_answer_at_once() -> None:
    gate = AnswerGate(limit=4, while_acknowledging=1)
    async with gate.acknowledging():
        assert await started_within(gate, 5) == 1


async def test_answers_held_back_by_an_acknowledgement_start_when_it_is_sent() -> None:
    gate = AnswerGate(limit=3, while_acknowledging=1)
    release = asyncio.Event()
    started = 0

    async def answer() -> None:
        nonlocal started
        async with gate.answering():
            started += 1
            await release.wait()

    async with gate.acknowledging():
        tasks = [asyncio.create_task(answer()) for _ in range(3)]
        await asyncio.sleep(0.02)
        assert started == 1
    await asyncio.sleep(0.02)
    assert started == 3
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 1)


async def test_a_cancelled_waiting_answer_gives_its_place_back() -> None:
    gate = AnswerGate(limit=1)
    await cancel_a_waiter(gate.answering)
    assert gate.answering_now == 0
    assert await started_within(gate, 1) == 1


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AnswerGate(limit=0)
    with pytest.raises(ValueError, match="at least 1"):
        AnswerGate(limit=2, while_acknowledging=0)
