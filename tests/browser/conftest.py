"""The real app on a real localhost port, driven by Playwright in headless Debian Chromium.

Chromium comes from Debian (`apt-get install chromium`), installed here when it is missing;
Playwright's own browser download is never used. Where Chromium cannot be installed (no root,
no network), the browser tests skip and say why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from bot.app import create_app
from bot.keys import DATABASE
from tests.app_settings import app_settings

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def _install_chromium() -> str | None:
    """Install Debian's chromium if it is missing; returns why not, or None when it is there."""
    if Path(CHROMIUM).exists():
        return None
    if shutil.which("apt-get") is None:
        return "apt-get is not available to install chromium"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "installing chromium needs root (apt-get install chromium)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=900, env=env, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(command)} failed: {exc}"
        if result.returncode != 0:
            return f"{' '.join(command)} failed: {result.stderr.strip()[-300:]}"
    return (
        None if Path(CHROMIUM).exists() else "chromium installed but /usr/bin/chromium is missing"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event
    loop running on this thread while it is open, which the async tests after these need."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    problem = _install_chromium()
    if problem:
        pytest.skip(f"browser tests need Debian's chromium: {problem}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class LiveServer:
    """The app serving on 127.0.0.1:`port` from its own event loop in a thread."""

    app: web.Application
    url: str
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (its database engine lives there)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "MICROSOFT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVIDENCE_DESK_WEB_CHAT_POLL_MS", "300")
    monkeypatch.setenv("EVIDENCE_DESK_WEB_DEMO", "true")
    settings = app_settings(
        f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        outbox_interval_seconds=0.2,
        # Requests from unrouted conversations go to the demo specialist's queue, as a
        # deployment sets one (else the console shows its "Needs attention" banner).
        general_queue="web:specialist",
    )
    app = create_app(settings)
    with live_server(app) as live:
        yield live


@contextlib.contextmanager
def live_server(app: web.Application) -> Iterator[LiveServer]:
    """Serve `app` on a free loopback port until the block ends."""
    # Everything async (startup, serving, shutdown) happens on one loop in one thread: the
    # database engine's connections belong to the thread that made them.
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    ready = threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="live-server", daemon=True)
    thread.start()
    if not ready.wait(timeout=60) or failure:
        raise RuntimeError("the server did not start") from (failure[0] if failure else None)
    live = LiveServer(app, f"http://127.0.0.1:{runner.addresses[0][1]}", loop)
    try:
        yield live
    finally:
        live.run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(base_url=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def admin_account(server: LiveServer) -> tuple[str, str]:
    from tests.web_admin import EMAIL, PASSWORD, add_admin

    server.run(add_admin(server.app[DATABASE], EMAIL, PASSWORD))
    return EMAIL, PASSWORD
