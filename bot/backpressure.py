"""Acknowledging comes first: answering slows down while requests are waiting for their 200.

Slack gives an event 3 seconds to be acknowledged and retries (then, if it keeps happening,
switches the subscription off) when it is not; an answer a second later is no loss. Both share
one event loop, and asyncio has no priorities: every answer in flight is a task whose steps
queue beside the acknowledgements. So the number of answers in flight is the knob. With no
request waiting, up to `limit` events are answered at once; while any request is waiting for
its acknowledgement, no new answer starts, except one at a time whenever none has started for
`max_pause` seconds, so that a long burst slows answering but cannot stop it. The events not
being answered are safe in the journal (an acknowledged event is journalled first), and are
answered as soon as the burst allows. Measured in benchmarks/load.py.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AnswerGate:
    """Counts requests awaiting acknowledgement and admits answering work accordingly."""

    def __init__(self, limit: int, max_pause: float = 0.05) -> None:
        if limit < 1:
            raise ValueError("the answering limit must be at least 1")
        self.limit = limit
        self.max_pause = max_pause
        self._last_admitted = time.monotonic()
        self.answering_now = 0
        self.acknowledging_now = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def allowed(self) -> int:
        if not self.acknowledging_now:
            return self.limit
        # Requests are waiting: answering pauses, except that one piece of work at a time
        # may go when nothing has been let in for a while, so a long burst cannot starve it.
        starved = time.monotonic() - self._last_admitted >= self.max_pause
        return 1 if starved else 0

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
            self._last_admitted = time.monotonic()
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
                self._last_admitted = time.monotonic()
                waiter.set_result(None)
