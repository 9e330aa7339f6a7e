"""The web chat's and console's doors over HTTP, on both databases: chat identities the server
signed, request-form state that cannot be redirected, demo mode only where asked for and only
on loopback, and a sign-in limit that parallel attempts, forged proxy headers and a hostile
address cannot get round."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.app import create_app
from bot.cli.main import build_parser, serve_app
from bot.config import Settings
from bot.db.session import Database
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.platforms.web.demo import DEMO_SPECIALIST_NAME
from tests.app_settings import app_settings, url_of
from tests.fakes.drain import drain
from tests.web_admin import EMAIL, PASSWORD, add_admin, csrf_of

EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - what a container binds; the point of these tests
_STATE = re.compile(r'data-state="([^"]*)"')

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


def _settings(database: Database, host: str = "127.0.0.1") -> Settings:
    return app_settings(
        url_of(database), host=host, auto_migrate=False, secret_key="web-doors-test-secret"
    )


@pytest.fixture
def make_client(
    database: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> MakeClient:
    """A running app on the test database; keyword arguments are EVIDENCE_DESK_WEB_* settings
    (none: the defaults, as a deployment gets them)."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "EVIDENCE_DESK_WEB_DEMO"):
        monkeypatch.delenv(name, raising=False)

    async def make(**web_settings: str) -> Client:
        for name, value in web_settings.items():
            monkeypatch.setenv(f"EVIDENCE_DESK_WEB_{name.upper()}", value)
        client: Client = await aiohttp_client(create_app(_settings(database)))
        return client

    return make


async def _tickets(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(text("SELECT count(*) FROM tickets")) or 0)


# ---- chat identities -------------------------------------------------------------------------


async def test_a_made_up_chat_cookie_is_refused_on_every_chat_endpoint(
    make_client: MakeClient, database: Database
) -> None:
    client = await make_client()
    await RoutingService(database).add_specialist(
        NewSpecialist("Real specialist", identities=(Identity("web", "specialist"),))
    )
    client.session.cookie_jar.update_cookies({"ed_chat": "specialist"})
    refused = [
        await client.post("/chat/api/message", json={"text": "hi"}),
        await client.post("/chat/api/action", json={"action": "ticket_claim", "value": "KLS-1"}),
        await client.get("/chat/api/home"),
        await client.get("/chat/api/messages"),
    ]
    assert [r.status for r in refused] == [403, 403, 403, 403]
    assert "open the chat page first" in await refused[0].text()


async def test_a_chat_cookie_with_its_identity_changed_is_refused(make_client: MakeClient) -> None:
    client = await make_client()
    page = await client.get("/")
    issued = page.cookies["ed_chat"].value
    user, _, signature = issued.rpartition(".")
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"ed_chat": f"web-0000000000000000.{signature}"})
    assert (await client.post("/chat/api/message", json={"text": "hi"})).status == 403
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"ed_chat": user})  # the id without its signature
    assert (await client.post("/chat/api/message", json={"text": "hi"})).status == 403


async def test_the_page_replaces_a_forged_cookie_with_a_signed_identity(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    client.session.cookie_jar.update_cookies({"ed_chat": "specialist"})
    page = await client.get("/")
    issued = page.cookies["ed_chat"]
    assert issued.value != "specialist" and issued["httponly"]
    answered = await client.post("/chat/api/message", json={"text": "hi", "user": "specialist"})
    assert answered.status == 200


# ---- request-form state ----------------------------------------------------------------------


async def _open_request_form(client: Client, **identity: str) -> str:
    await client.get("/")
    opened = await client.post(
        "/chat/api/action",
        json={"action": "request_open", "value": "falls prevention in older inpatients"} | identity,
    )
    assert opened.status == 200
    form = (await opened.json())["form"]
    found = _STATE.search(form["html"])
    assert found, "the form carries no state"
    return html.unescape(found.group(1))


def _request(state: str, submission: str) -> dict[str, Any]:
    return {
        "action": "request_submit",
        "form_state": state,
        "submission_id": submission,
        "values": {"question": "falls prevention in older inpatients",
                   "purpose": "service_development"},
    }  # fmt: skip


async def test_request_form_state_redirected_to_another_thread_is_refused(
    make_client: MakeClient, database: Database
) -> None:
    client = await make_client()
    state = json.loads(await _open_request_form(client))
    redirected = json.dumps(state | {"t": "web-someone-else"})
    response = await client.post("/chat/api/action", json=_request(redirected, "s1"))
    assert response.status == 200
    reply = (await response.json())["reply"]
    assert "changed after I sent it" in reply["reply"]["text"]
    unsigned = json.dumps({"c": state["c"], "t": state["t"]})
    response = await client.post("/chat/api/action", json=_request(unsigned, "s2"))
    assert "changed after I sent it" in (await response.json())["reply"]["reply"]["text"]
    assert await _tickets(database) == 0


async def test_in_demo_mode_too_a_redirected_form_state_is_refused(
    make_client: MakeClient, database: Database
) -> None:
    client = await make_client(demo="true")
    me = {"user": "web-demo-requester", "thread": "web-demo-requester"}
    state = json.loads(await _open_request_form(client, **me))
    redirected = json.dumps(state | {"c": "C0SOMEONE-ELSES-CHANNEL"})
    response = await client.post("/chat/api/action", json=_request(redirected, "d1") | me)
    assert "changed after I sent it" in (await response.json())["reply"]["reply"]["text"]
    assert await _tickets(database) == 0


async def test_the_request_form_state_the_bot_signed_files_the_request(
    make_client: MakeClient, database: Database
) -> None:
    client = await make_client()
    state = await _open_request_form(client)
    response = await client.post("/chat/api/action", json=_request(state, "s3"))
    assert response.status == 200
    assert (await response.json())["queued"]  # the confirmation, with its reference, follows
    await drain(database)
    messages = await client.get("/chat/api/messages")
    assert any("KLS-" in m["html"] for m in (await messages.json())["messages"])
    assert await _tickets(database) == 1


# ---- demo mode -------------------------------------------------------------------------------


async def test_by_default_there_is_no_demo_and_no_chosen_identity(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    page = await client.get("/")
    body = await page.text()
    assert "Specialist view" not in body and "Demo mode" not in body
    claimed = await client.post(
        "/chat/api/message", json={"text": "hi", "user": "specialist"}, cookies={}
    )
    assert claimed.status == 200  # spoke, but as the cookie's identity
    home = await client.get("/chat/api/home?user=specialist")
    assert not any("Your queue" in s["html"] for s in (await home.json())["sections"])


async def test_demo_mode_shows_a_banner_and_logs_a_warning(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.platforms.web"):
        client = await make_client(demo="true")
    page = await (await client.get("/")).text()
    assert "Demo mode." in page and "Specialist view" in page
    assert any("DEMO MODE" in r.getMessage() for r in caplog.records)


def test_demo_mode_on_a_public_host_refuses_to_start(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVIDENCE_DESK_WEB_DEMO", "true")
    with pytest.raises(ValueError, match=r"EVIDENCE_DESK_WEB_DEMO.*EVIDENCE_DESK_HOST"):
        create_app(_settings(database, host=EVERY_INTERFACE))


async def test_serve_demo_gives_the_demo_chat_on_loopback_and_refuses_a_public_host(
    database: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVIDENCE_DESK_WEB_DEMO", "false")  # restored after: --demo overrides it
    monkeypatch.setenv("EVIDENCE_DESK_DATABASE_URL", str(_settings(database).database_url))
    monkeypatch.setenv("EVIDENCE_DESK_AUTO_MIGRATE", "false")
    monkeypatch.setenv("EVIDENCE_DESK_KB_RELOAD_SECONDS", "0")
    assert serve_app(build_parser().parse_args(["serve", "--demo", "--host", EVERY_INTERFACE])) == 2
    built = serve_app(build_parser().parse_args(["serve", "--demo"]))
    assert not isinstance(built, int)
    settings, app = built
    assert settings.host == "127.0.0.1"
    client = await aiohttp_client(app)
    assert "Demo mode." in await (await client.get("/")).text()


async def test_switching_demo_mode_off_retires_the_demo_specialist(
    make_client: MakeClient, database: Database
) -> None:
    demo = await make_client(demo="true")
    routing = RoutingService(database)
    created = await routing.specialist_for("web", "specialist")
    assert created is not None and created.is_active
    await demo.close()
    await make_client(demo="false")
    retired = await routing.specialist_for("web", "specialist")
    assert retired is not None and retired.display_name == DEMO_SPECIALIST_NAME
    assert not retired.is_active
    assert await routing.route_for("web", "web-chat") is None


# ---- admin sign-in ---------------------------------------------------------------------------


async def _login_token(client: Client, headers: dict[str, str] | None = None) -> str:
    return csrf_of(await (await client.get("/admin/login", headers=headers)).text())


async def _sign_in(
    client: Client, token: str, password: str, headers: dict[str, str] | None = None
) -> web.Response | Any:
    return await client.post(
        "/admin/login",
        data={"email": EMAIL, "password": password, "csrf_token": token, "next": "/admin"},
        headers=headers,
        allow_redirects=False,
    )


async def test_parallel_sign_ins_get_no_more_password_checks_than_the_limit(
    make_client: MakeClient, database: Database
) -> None:
    client = await make_client()
    await add_admin(database)
    token = await _login_token(client)
    responses = await asyncio.gather(
        *(_sign_in(client, token, f"wrong password {n:02}") for n in range(40))
    )
    statuses = [r.status for r in responses]
    assert statuses.count(401) == 5  # a password was checked (and was wrong)
    assert statuses.count(429) == 35  # refused before any password check


async def test_forwarded_for_from_an_untrusted_peer_does_not_reset_the_limit(
    make_client: MakeClient, database: Database
) -> None:
    client = await make_client()
    await add_admin(database)
    token = await _login_token(client)
    for n in range(5):
        forged = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert (await _sign_in(client, token, "wrong password!", forged)).status == 401
    fresh = {"X-Forwarded-For": "198.51.100.77"}
    assert (await _sign_in(client, token, PASSWORD, fresh)).status == 429


async def test_behind_a_trusted_proxy_an_attacker_cannot_lock_the_admin_out(
    make_client: MakeClient, database: Database
) -> None:
    client = await make_client(trusted_proxies="127.0.0.1/32, ::1")
    await add_admin(database)
    token = await _login_token(client)
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(5):
        assert (await _sign_in(client, token, "wrong password!", attacker)).status == 401
    assert (await _sign_in(client, token, PASSWORD, attacker)).status == 429
    admin = {"X-Forwarded-For": "198.51.100.7"}
    assert (await _sign_in(client, token, PASSWORD, admin)).status == 303


async def test_behind_a_trusted_tls_proxy_cookies_are_secure_and_hsts_is_sent(
    make_client: MakeClient,
) -> None:
    client = await make_client(trusted_proxies="127.0.0.1, ::1")
    page = await client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers.getone("Set-Cookie")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    chat = await client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in chat.headers.getone("Set-Cookie")


async def test_forwarded_proto_from_an_untrusted_peer_changes_nothing(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    page = await client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in page.headers.getone("Set-Cookie")
    assert "Strict-Transport-Security" not in page.headers
