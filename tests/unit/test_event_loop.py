"""`serve` runs on uvloop unless the settings ask for the standard library's loop."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from bot.cli.main import _event_loop
from bot.config import Settings


def test_serve_runs_on_uvloop_by_default() -> None:
    loop = _event_loop(Settings().event_loop)
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_the_standard_loop_is_used_when_the_settings_ask_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVIDENCE_DESK_EVENT_LOOP", "asyncio")
    loop = _event_loop(Settings().event_loop)
    try:
        assert not isinstance(loop, uvloop.Loop)
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


def test_an_unknown_event_loop_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCE_DESK_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        Settings()
