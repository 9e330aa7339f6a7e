"""Whose turn it is to write to SQLite: one transaction at a time, first come first served,
except that urgent work (journalling an event before it is acknowledged) goes to the front.

SQLite has one writer. Queueing this process's transactions here, rather than in SQLite's
busy handler (which polls with sleeps of up to 100 ms), hands the file over the moment it is
free. Under a burst the queue fills with answering work; an event waiting to be journalled
behind all of it would miss Slack's 3-second acknowledgement window for no good reason, since
answering can wait and acknowledging cannot. So urgent waiters are served before ordinary
ones, and ordinary ones in arrival order among themselves.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteTurns:
    """A FIFO lock with a second, front-of-queue lane for urgent waiters."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._urgent) + len(self._ordinary)

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    def when_needed(self, *, urgent: bool = False) -> LazyTurn:
        """A turn taken only when the transaction first needs the database (see LazyTurn)."""
        return LazyTurn(self, urgent)

    async def _acquire(self, urgent: bool) -> None:
        if not self._busy and not self.waiting:
            self._busy = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane = self._urgent if urgent else self._ordinary
        lane.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed the turn just as it was cancelled: pass it on
            elif waiter in lane:
                lane.remove(waiter)
            raise

    def _release(self) -> None:
        for lane in (self._urgent, self._ordinary):
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the turn passes straight on; still busy
                    return
        self._busy = False


class LazyTurn:
    """A transaction's turn, taken at its first statement rather than when it opens.

    Answering a batch of messages opens its transaction first and does its thinking (matching,
    rendering) before it writes anything; holding the one write turn through that would keep
    the acknowledgement path's journal inserts waiting for nothing. bot/db/session.py takes it
    from the engine's `begin` event, just before `BEGIN IMMEDIATE`, and gives it back when the
    transaction has ended."""

    def __init__(self, turns: WriteTurns, urgent: bool) -> None:
        self._turns = turns
        self._urgent = urgent
        self.held = False
        #: The task whose transaction this is: only it takes the turn (bot/db/session.py).
        self.owner = asyncio.current_task()

    async def take(self) -> None:
        if not self.held:
            await self._turns._acquire(self._urgent)
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self._turns._release()
