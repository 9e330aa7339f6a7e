"""SQLite's single writer: one turn at a time, urgent work first, cancellation loses no turn."""

from __future__ import annotations

import asyncio

from bot.db.turns import WriteTurns
from tests.places import cancel_a_waiter


async def test_waiters_are_served_in_arrival_order_with_urgent_ones_first() -> None:
    turns, order = WriteTurns(), []
    gate = asyncio.Event()

    async def write(name: str, urgent: bool = False) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)
            if name == "holder":
                await gate.wait()

    holder = asyncio.create_task(write("holder"))
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(write("answer-1")),
        asyncio.create_task(write("answer-2")),
        asyncio.create_task(write("journal", urgent=True)),
    ]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(holder, *waiting)
    assert order == ["holder", "journal", "answer-1", "answer-2"]


async def test_only_one_holds_a_turn_at_a_time() -> None:
    turns, inside, most = WriteTurns(), 0, 0

    async def write() -> None:
        nonlocal inside, most
        async with turns.turn():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(write() for _ in range(20)))
    assert most == 1


async def test_a_cancelled_waiter_does_not_keep_the_turn() -> None:
    turns = WriteTurns()
    await cancel_a_waiter(turns.turn)
    async with asyncio.timeout(1), turns.turn():
        pass
    assert turns.waiting == 0
