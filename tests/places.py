"""What every keeper of places (the answer gate, SQLite's write turns) must survive: a task
cancelled while it waits for a place."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest


async def cancel_a_waiter(place: Callable[[], AbstractAsyncContextManager[object]]) -> None:
    """One task holds `place`, a second waits for it and is cancelled, then the first lets go.
    The caller then checks that the cancelled task left no place taken and no waiter behind."""
    release = asyncio.Event()

    async def hold() -> None:
        async with place():
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
