"""Sign in with Microsoft in a real browser: the web chat outside demo mode sends Chromium
through the fake identity provider (tests/fakes/oidc_provider.py) and back, signed in; the
person chats, then signs out, and the chat asks for a sign-in again."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bot.app import create_app
from tests.app_settings import app_settings
from tests.browser.chat_page import ask
from tests.browser.conftest import TIMEOUT_MS, LiveServer, live_server
from tests.fakes.oidc_provider import FakeOidcProvider, FakeUser


@pytest.fixture
def provider() -> Iterator[FakeOidcProvider]:
    """The fake provider, serving from its own loop in its own thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-oidc", daemon=True)
    thread.start()
    fake = FakeOidcProvider(user=FakeUser(email="jo.bloggs@nhs.net"))
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=30)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def signed_in_server(
    provider: FakeOidcProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServer]:
    """The app outside demo mode, with single sign-on pointed at the fake provider."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "MICROSOFT_APP_ID",
        "EVIDENCE_DESK_WEB_DEMO",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVIDENCE_DESK_WEB_CHAT_POLL_MS", "300")
    monkeypatch.setenv("EVIDENCE_DESK_WEB_KB_POLL_SECONDS", "0")
    for name, value in provider.settings_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EVIDENCE_DESK_OIDC_ALLOWED_DOMAINS", "nhs.net")
    settings = app_settings(
        f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        outbox_interval_seconds=0.2,
        allow_no_general_queue=True,
    )
    with live_server(create_app(settings)) as live:
        yield live


def test_a_person_signs_in_through_microsoft_chats_and_signs_out(
    browser: Any, signed_in_server: LiveServer, provider: FakeOidcProvider
) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(base_url=signed_in_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/")  # not signed in: off to Microsoft (the fake) and back
        sign_out = page.get_by_role("button", name="Sign out jo.bloggs@nhs.net")
        expect(sign_out).to_be_visible()
        assert len(provider.authorizations) == 1 and len(provider.token_requests) == 1
        cookie = next(c for c in context.cookies() if c["name"] == "ed_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        ask(page, "library opening hours")
        expect(page.locator("#log-requester article.ed-reply").last).to_contain_text(
            "Library opening hours"
        )

        sign_out.click()
        expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()
        assert not [c for c in context.cookies() if c["name"] == "ed_session"]
        provider.deny = True  # so a new sign-in cannot quietly succeed
        page.goto("/")
        expect(page.get_by_role("heading", name="Sign-in did not work")).to_be_visible()
    finally:
        context.close()
