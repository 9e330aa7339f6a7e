"""Full garbage collections between bursts, not in the middle of one.

CPython's collector runs a full pass by itself whenever enough objects have outlived two
younger passes. Under a burst those are the events in flight (acknowledged, journalled and
waiting for their answer: a request, its listener's coroutine, the neutral event), tens of
thousands of them, and a full pass over them stopped the event loop for 50-120 ms, several
times a burst: every acknowledgement waiting at that moment waited for it too (they were the
acknowledgement p99 in benchmarks/load.py, docs/performance.md).

So automatic full passes are switched off (the young generations are still collected as
usual, in passes of a millisecond or so) and `FullCollections` makes them instead: as soon as
the process is idle (nothing being acknowledged or answered), and at the latest every
`at_least_every` seconds even under sustained load, so cyclic garbage never piles up for
long. What was built at startup is frozen out of every pass (bot/app.py).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import Final

log = logging.getLogger(__name__)

#: A gen-1 count the process never reaches: no automatic full pass.
_NEVER: Final = 1_000_000_000


class FullCollections:
    """Run full garbage collections when `busy()` says the process is idle."""

    def __init__(
        self,
        busy: Callable[[], bool],
        *,
        at_least_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._busy = busy
        self._at_least_every = at_least_every
        self._clock = clock
        self._last = clock()
        self._automatic: tuple[int, int, int] | None = None

    def take_over(self) -> None:
        """Stop CPython's own full passes; `check` makes them from now on."""
        if self._automatic is None:
            self._automatic = gc.get_threshold()
            young, middle, _ = self._automatic
            gc.set_threshold(young, middle, _NEVER)

    def hand_back(self) -> None:
        """Give full passes back to CPython (at shutdown, and in tests)."""
        if self._automatic is not None:
            gc.set_threshold(*self._automatic)
            self._automatic = None

    def check(self) -> bool:
        """Collect if there is anything for a full pass and now is a good moment; whether
        it collected. Cheap when there is nothing to do: call it every second or so."""
        if gc.get_count()[2] == 0:  # no younger pass since the last full one: nothing new
            return False
        overdue = self._clock() - self._last >= self._at_least_every
        if self._busy() and not overdue:
            return False
        started = time.perf_counter()
        gc.collect()
        self._last = self._clock()
        log.debug("full garbage collection took %.1f ms", (time.perf_counter() - started) * 1000)
        return True
