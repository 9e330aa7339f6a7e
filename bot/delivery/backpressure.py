"""Acknowledging comes first: answering slows down while requests are waiting for their 200.

Slack gives an event 3 seconds to be acknowledged and retries (then, if it keeps happening,
switches the subscription off) when it is not; an answer a second later is no loss. Both share
one event loop, and asyncio has no priorities: every answer in flight is a task whose steps
queue beside the acknowledgements. So the number of answers in flight is the knob: with no
request waiting, up to `limit` events are answered at once; while any request is waiting for
its acknowledgement, only `while_acknowledging` (fewer, but never none, so a long burst slows
answering without stopping it). Messages answered together in one transaction (bot/delivery/inbox.py)
take one place between them: they wait on the batch, not on the event loop. The events waiting
to be answered are safe in the journal (an acknowledged event is journalled first). Measured
in benchmarks/load.py: on two cores at 500 events/s, letting all 8 answer beside the
acknowledgements gave an acknowledgement p99 near 105 ms, 1 to 3 gave 58-65 ms.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AnswerGate:
    """Counts requests awaiting acknowledgement and admits answering work accordingly."""

    def __init__(self, limit: int, while_acknowledging: int = 3) -> None:
        if limit < 1 or while_acknowledging < 1:
            raise ValueError("the answering limits must be at least 1")
        self.limit = limit
        self.while_acknowledging = min(limit, while_acknowledging)
        self.answering_now = 0
        self.acknowledging_now = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def allowed(self) -> int:
        return self.while_acknowledging if self.acknowledging_now else self.limit

    @asynccontextmanager
    async def acknowledging(self) -> AsyncIterator[None]:
        """Around a request that is waiting for its acknowledgement."""
        self.acknowledging_now += 1
        try:
            yield
        finally:
            self.acknowledging_now -= 1
            self._admit()

    @asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Around the work of answering one acknowledged event (not around delivering the
        answer, which is mostly waiting on the platform and must not hold a place)."""
        if self.answering_now >= self.allowed or self._waiters:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self.answering_now -= 1  # admitted just as it was cancelled
                    self._admit()
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
        else:
            self.answering_now += 1
        try:
            yield
        finally:
            self.answering_now -= 1
            self._admit()

    def _admit(self) -> None:
        while self._waiters and self.answering_now < self.allowed:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.answering_now += 1  # counted here, so two releases cannot overfill
                waiter.set_result(None)
