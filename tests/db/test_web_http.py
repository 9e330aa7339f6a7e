"""The web chat's API and the admin console over HTTP, on both databases: cookie flags, CSRF,
the sign-in rate limit, security headers, and publishing that the running bot answers from."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.db.session import Database
from bot.desk.kb_versions import KbVersions
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.keys import DATABASE
from knowledge import SHIPPED_KB_DIR
from tests.app_settings import app_settings, url_of
from tests.web_admin import EMAIL, PASSWORD, assert_signed_in, csrf_of, sign_in


async def test_signing_in_sets_an_httponly_samesite_strict_session_cookie(
    client: TestClient[Any, Any],
) -> None:
    assert_signed_in(
        await sign_in(client), to="/admin", cookie="ed_admin", samesite="Strict", path="/admin"
    )
    overview = await client.get("/admin")
    assert overview.status == 200
    assert "Admin console" in await overview.text()


async def test_cookies_are_secure_when_the_setting_says_so(
    client: TestClient[Any, Any],
) -> None:
    from bot.platforms.web.keys import WEB_SETTINGS

    assert client.app is not None
    client.app[WEB_SETTINGS].secure_cookies = True  # behind a TLS-terminating proxy
    page = await client.get("/admin/login")
    header = page.headers.getone("Set-Cookie")
    assert "ed_login_csrf=" in header and "Secure" in header and "HttpOnly" in header


async def test_a_login_without_its_csrf_token_is_refused(client: TestClient[Any, Any]) -> None:
    await client.get("/admin/login")
    response = await client.post(
        "/admin/login", data={"email": EMAIL, "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403
    assert "ed_admin" not in response.cookies


async def test_every_console_form_needs_the_sessions_csrf_token(
    client: TestClient[Any, Any], database: Database
) -> None:
    await KbVersions(database).import_directory(SHIPPED_KB_DIR, "admin")  # a version to roll to
    await sign_in(client)
    missing = await client.post("/admin/kb/rollback", data={"version": "1"})
    assert missing.status == 403
    wrong = await client.post("/admin/kb/rollback", data={"version": "1", "csrf_token": "x" * 43})
    assert wrong.status == 403
    page = await client.get("/admin/kb/history")
    token = csrf_of(await page.text())
    foreign = await client.post(
        "/admin/kb/rollback",
        data={"version": "1", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status == 403
    good = await client.post(
        "/admin/kb/rollback", data={"version": "1", "csrf_token": token}, allow_redirects=False
    )
    assert good.status == 303


async def test_the_sixth_failed_sign_in_is_rate_limited(client: TestClient[Any, Any]) -> None:
    for _ in range(5):
        assert (await sign_in(client, "wrong password!")).status == 401
    limited = await sign_in(client)
    assert limited.status == 429
    assert "Too many failed attempts" in await limited.text()


async def test_pages_need_a_session(client: TestClient[Any, Any]) -> None:
    response = await client.get("/admin/kb", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/admin/login?next=")
    assert (await client.post("/admin/kb/rollback", data={"version": "1"})).status == 403


async def test_publishing_an_entry_changes_what_the_chat_answers(
    client: TestClient[Any, Any],
) -> None:
    await sign_in(client)
    editor = await client.get("/admin/kb/entry/library-opening-hours")
    html = await editor.text()
    token = csrf_of(html)
    fields = dict(re.findall(r'<input class="ed-input"[^>]* name="(\w+)" value="([^"]*)"', html))
    answer = "Open <b>every</b> day this week."
    form = {
        **fields,
        "category": "library",
        "questions": "library opening hours\nwhen is the library open",
        "links": "NHS Knowledge and Library Services | https://library.nhs.uk/",
        "answer": answer,
        "previous_id": "library-opening-hours",
        "base_version": "1",
        "csrf_token": token,
        "intent": "publish",
    }
    published = await client.post("/admin/kb/entry", data=form, allow_redirects=False)
    assert published.status == 303, await published.text()
    reply = await client.post(
        "/chat/api/message",
        json={"text": "library opening hours", "user": "web-u1", "conversation": "web-chat"},
    )
    body = await reply.json()
    html = body["replies"][0]["html"]
    assert "Open &lt;b&gt;every&lt;/b&gt; day this week." in html  # escaped, not markup
    assert "<b>every</b>" not in html


async def test_chat_pages_send_a_strict_content_security_policy(
    client: TestClient[Any, Any],
) -> None:
    for path in ("/", "/admin/login"):
        response = await client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "<script>" not in await response.text()  # no inline script anywhere


async def test_the_chat_api_refuses_bad_input_with_400s(client: TestClient[Any, Any]) -> None:
    not_json = await client.post("/chat/api/message", data="text=hi")
    assert not_json.status == 415
    bad_user = await client.post("/chat/api/message", json={"text": "hi", "user": "<script>"})
    assert bad_user.status == 400
    bad_action = await client.post("/chat/api/action", json={"action": "DROP TABLE", "user": "u"})
    assert bad_action.status == 400
    bad_since = await client.get("/chat/api/messages?conversation=web-chat&since=yesterday")
    assert bad_since.status == 400


async def test_a_message_with_markup_comes_back_escaped(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/chat/api/message",
        json={"text": "<img src=x onerror=alert(1)> can you find evidence on falls", "user": "u1"},
    )
    html = (await response.json())["replies"][0]["html"]
    assert "<img" not in html
    assert "onerror" not in html or "&lt;img" in html


async def test_home_shows_the_demo_specialist_their_queue(client: TestClient[Any, Any]) -> None:
    assert client.app is not None
    response = await client.get("/chat/api/home?user=specialist")
    sections = (await response.json())["sections"]
    assert any("Your queue" in s["html"] for s in sections)
    assert client.app[DATABASE] is not None


async def test_outside_demo_mode_the_chat_identity_comes_from_a_cookie(
    database: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVIDENCE_DESK_WEB_DEMO", "false")
    app = create_app(app_settings(url_of(database), auto_migrate=False))
    client = await aiohttp_client(app)
    await RoutingService(database).add_specialist(
        NewSpecialist("Real specialist", identities=(Identity("web", "specialist"),))
    )
    refused = await client.post("/chat/api/message", json={"text": "hi", "user": "specialist"})
    assert refused.status == 403  # no cookie yet: no claiming to be anyone
    page = await client.get("/")
    assert "Specialist view" not in await page.text()
    cookie = page.cookies["ed_chat"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Strict"
    answered = await client.post("/chat/api/message", json={"text": "hi", "user": "specialist"})
    assert answered.status == 200
    home = await client.get("/chat/api/home?user=specialist")
    sections = (await home.json())["sections"]
    assert not any("Your queue" in s["html"] for s in sections)  # spoke as the cookie's id


async def test_a_mental_health_crisis_in_the_web_chat_gets_111_option_2_and_samaritans(
    client: TestClient[Any, Any],
) -> None:
    response = await client.post(
        "/chat/api/message", json={"text": "I don't want to be alive any more", "user": "u1"}
    )
    html = (await response.json())["replies"][0]["html"]
    assert "NHS 111 and choose option 2" in html and "116 123" in html and "999" in html
    assert "where-to-get-urgent-help-for-mental-health" in html


async def test_without_microsoft_sign_in_set_up_there_is_no_sign_in_route_or_button(
    client: TestClient[Any, Any],
) -> None:
    assert (await client.get("/auth/login", allow_redirects=False)).status == 404
    assert "Sign in with Microsoft" not in await (await client.get("/admin/login")).text()
