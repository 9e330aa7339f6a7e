"""Full garbage collections between bursts (bot/gc_pauses.py): CPython's automatic full passes
are switched off while the app runs, and `check` makes them when the process is idle, or when
the last was long enough ago, and only when a younger pass has run since."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import create_app
from bot.gc_pauses import FullCollections
from tests.app_settings import app_settings
from tests.conftest import KbFolder


class FullPasses:
    """Counts the full (generation 2) collections that start, from gc's own callbacks."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            self.count += 1


@pytest.fixture
def full_passes() -> Iterator[FullPasses]:
    passes = FullPasses()
    gc.callbacks.append(passes)
    try:
        yield passes
    finally:
        gc.callbacks.remove(passes)


class Clock:
    """A monotonic clock the test sets by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def something_new() -> None:
    """A younger (generation 1) pass since the last full one: what makes a full pass worth
    making (gc.get_count()[2] > 0)."""
    gc.collect(1)
    assert gc.get_count()[2] > 0


@pytest.fixture
def taken_over() -> Iterator[tuple[FullCollections, Clock, list[bool]]]:
    """FullCollections in charge of full passes, 60 s apart at most, on a clock of the test's,
    busy while the list holds True; CPython's own thresholds restored afterwards."""
    clock, busy = Clock(), [False]
    collections = FullCollections(lambda: busy[0], at_least_every=60.0, clock=clock)
    collections.take_over()
    try:
        yield collections, clock, busy
    finally:
        collections.hand_back()


def test_taking_over_switches_automatic_full_passes_off_and_handing_back_restores_them() -> None:
    before = gc.get_threshold()
    collections = FullCollections(lambda: False)
    try:
        collections.take_over()
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert full >= 1_000_000
        collections.take_over()  # twice: still CPython's own thresholds to hand back
    finally:
        collections.hand_back()
    assert gc.get_threshold() == before
    collections.hand_back()  # again: nothing left to restore, nothing changed
    assert gc.get_threshold() == before


def test_check_collects_when_the_process_is_idle(
    taken_over: tuple[FullCollections, Clock, list[bool]], full_passes: FullPasses
) -> None:
    collections, _, _ = taken_over
    something_new()
    assert collections.check() is True
    assert full_passes.count == 1
    assert gc.get_count()[2] == 0


def test_check_does_not_collect_while_busy_and_not_overdue(
    taken_over: tuple[FullCollections, Clock, list[bool]], full_passes: FullPasses
) -> None:
    collections, clock, busy = taken_over
    busy[0] = True
    something_new()
    clock.now += 59.0
    assert collections.check() is False
    assert full_passes.count == 0


def test_check_collects_while_busy_once_the_last_full_pass_is_overdue(
    taken_over: tuple[FullCollections, Clock, list[bool]], full_passes: FullPasses
) -> None:
    collections, clock, busy = taken_over
    busy[0] = True
    something_new()
    clock.now += 60.0
    assert collections.check() is True
    assert full_passes.count == 1
    # Overdue is counted from that pass: busy again straight after, it waits another 60 s.
    something_new()
    clock.now += 30.0
    assert collections.check() is False
    assert full_passes.count == 1


def test_check_does_nothing_when_no_younger_pass_has_run_since_the_last_full_one(
    taken_over: tuple[FullCollections, Clock, list[bool]], full_passes: FullPasses
) -> None:
    collections, _, _ = taken_over
    gc.collect()
    # Nothing in between: a generation-1 pass takes thousands of new objects to happen.
    assert collections.check() is False
    assert full_passes.count == 1  # the test's own gc.collect()


async def test_the_app_takes_over_full_passes_while_it_runs(
    aiohttp_client: Any, kb_folder: KbFolder, sqlite_url: str
) -> None:
    before = gc.get_threshold()
    # The lexical matcher alone (no model to load): which matcher answers is beside the point.
    no_model = str(kb_folder.path / "no-model-here")
    app = create_app(app_settings(sqlite_url, kb_dir=kb_folder.path, embedding_model=no_model))
    client = await aiohttp_client(app)
    try:
        assert gc.get_threshold()[:2] == before[:2]
        assert gc.get_threshold()[2] >= 1_000_000
    finally:
        await client.close()
    assert gc.get_threshold() == before
