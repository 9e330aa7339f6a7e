"""Sign in with Microsoft, over HTTP against a fake identity provider at the wire
(tests/fakes/oidc_provider.py), on both databases: the whole code flow, each way an ID token
or a callback is refused, who may do what, sign-out, and the sessions' time-outs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import create_app
from bot.db.models import AdminSession
from bot.db.session import Database
from bot.desk.accounts import SessionStore
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.observability import QuietPollingAccessLogger
from bot.platforms.web.admin.common import ADMIN
from tests.app_settings import app_settings, url_of
from tests.db.conftest import FakeClock
from tests.fakes.oidc_provider import FakeOidcProvider, FakeUser
from tests.signed import TEST_SECRET_KEY
from tests.web_admin import EMAIL, PASSWORD, add_admin, assert_signed_in, csrf_of

Client = TestClient[Any, Any]
LIFETIME, IDLE = timedelta(hours=8), timedelta(minutes=60)


@pytest.fixture
async def provider() -> AsyncIterator[FakeOidcProvider]:
    fake = FakeOidcProvider()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def client(
    database: Database,
    provider: FakeOidcProvider,
    clock: FakeClock,
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Client:
    """The server outside demo mode, with single sign-on pointed at the fake provider."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "EVIDENCE_DESK_WEB_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVIDENCE_DESK_WEB_KB_POLL_SECONDS", "0")
    for name, value in provider.settings_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EVIDENCE_DESK_OIDC_ALLOWED_DOMAINS", "nhs.net")
    monkeypatch.setenv("EVIDENCE_DESK_OIDC_ADMIN_GROUPS", "0b6e0000-aaaa-4bbb-8ccc-admins000001")
    monkeypatch.setenv("EVIDENCE_DESK_OIDC_ADMIN_EMAILS", "head.librarian@nhs.net")
    settings = app_settings(
        url_of(database),
        auto_migrate=False,
        secret_key=TEST_SECRET_KEY,
        allow_no_general_queue=True,
    )
    app = create_app(settings)
    app[ADMIN].sessions = SessionStore(database, LIFETIME, IDLE, clock)
    await add_admin(database)
    # The access log `serve` uses, so that what it writes is part of what the tests check.
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=QuietPollingAccessLogger)
    return await aiohttp_client(server)  # type: ignore[no-any-return]


async def start_sign_in(client: Client, target: str = "/") -> str:
    """Open /auth/login; the address of the provider's authorization endpoint it sends to."""
    started = await client.get(f"/auth/login?next={target}", allow_redirects=False)
    assert started.status == 302, await started.text()
    return started.headers["Location"]


async def at_provider(authorize_url: str) -> str:
    """What the browser does at Microsoft: the callback address it is sent back to."""
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(authorize_url, allow_redirects=False) as answer,
    ):
        assert answer.status == 302, await answer.text()
        return answer.headers["Location"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def sign_in(client: Client, target: str = "/") -> aiohttp.ClientResponse:
    """The whole sign-in as a browser makes it: the callback's response."""
    callback = await at_provider(await start_sign_in(client, target))
    return await client.get(path_of(callback), allow_redirects=False)


def session_cookie(client: Client) -> str:
    cookies = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    return cookies["ed_session"].value if "ed_session" in cookies else ""


async def live_sessions(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(AdminSession)) or 0)


async def chat(client: Client, text: str = "library opening hours") -> aiohttp.ClientResponse:
    return await client.post("/chat/api/message", json={"text": text})


async def test_signing_in_with_microsoft_opens_the_chat_with_a_lax_httponly_session_cookie(
    client: Client,
) -> None:
    assert_signed_in(await sign_in(client), to="/", cookie="ed_session", samesite="Lax", path="/")
    page = await client.get("/")
    assert page.status == 200
    assert "Sign out jo.bloggs@nhs.net" in await page.text()
    answered = await chat(client)
    assert answered.status == 200
    assert (await answered.json())["replies"], "the signed-in person's message was answered"


async def test_the_authorization_request_carries_pkce_s256_a_state_and_a_nonce(
    client: Client, provider: FakeOidcProvider
) -> None:
    authorize = parse_qs(urlsplit(await start_sign_in(client)).query)
    assert authorize["code_challenge_method"] == ["S256"]
    assert len(authorize["code_challenge"][0]) == 43
    assert len(authorize["state"][0]) >= 32 and len(authorize["nonce"][0]) >= 32
    assert authorize["redirect_uri"] == [str(client.make_url("/auth/callback"))]
    other = parse_qs(urlsplit(await start_sign_in(client)).query)
    assert other["state"] != authorize["state"] and other["nonce"] != authorize["nonce"]


async def test_the_chat_sends_someone_not_signed_in_to_sign_in(client: Client) -> None:
    page = await client.get("/", allow_redirects=False)
    assert page.status == 303
    assert page.headers["Location"] == "/auth/login?next=/"
    refused = await chat(client)
    assert refused.status == 403


@pytest.mark.parametrize(
    ("claims", "other_key", "reason"),
    [
        pytest.param({"aud": "some-other-application"}, False, "claim_aud", id="wrong-audience"),
        pytest.param(
            {"iss": "https://login.example/other-tenant/v2.0"}, False, "claim_iss",
            id="wrong-issuer",
        ),
        pytest.param({"nonce": "from-another-sign-in"}, False, "claim_nonce", id="wrong-nonce"),
        pytest.param({"nonce": None}, False, "claim_nonce", id="no-nonce"),
        pytest.param({"exp": 1_700_000_000, "iat": 1_699_996_400}, False, "expired", id="expired"),
        pytest.param({}, True, "bad_signature", id="bad-signature"),
    ],
)  # fmt: skip
async def test_an_id_token_that_fails_a_check_starts_no_session(
    client: Client,
    database: Database,
    provider: FakeOidcProvider,
    caplog: pytest.LogCaptureFixture,
    claims: dict[str, Any],
    other_key: bool,
    reason: str,
) -> None:
    provider.claims = claims
    provider.sign_with_other_key = other_key
    refused = await sign_in(client)
    assert refused.status == 401
    assert "Sign-in did not work" in await refused.text()
    assert f"sign-in refused: {reason}" in caplog.text  # refused for that check, not another
    assert "ed_session" not in refused.cookies
    assert await live_sessions(database) == 0
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_an_email_outside_the_allowed_domains_is_refused(
    client: Client, database: Database, provider: FakeOidcProvider
) -> None:
    provider.user = FakeUser(email="someone@gmail.com")
    refused = await sign_in(client)
    assert refused.status == 403
    assert "@nhs.net" in await refused.text()
    assert await live_sessions(database) == 0


async def test_a_callback_whose_state_is_not_this_browsers_is_refused(
    client: Client, database: Database, provider: FakeOidcProvider
) -> None:
    callback = await at_provider(await start_sign_in(client))
    query = parse_qs(urlsplit(callback).query)
    forged = await client.get(
        f"/auth/callback?code={query['code'][0]}&state=not-the-state-we-sent",
        allow_redirects=False,
    )
    assert forged.status == 400
    assert await live_sessions(database) == 0
    assert not provider.token_requests, "no code is exchanged for a callback with a bad state"


async def test_a_callback_in_a_browser_that_started_no_sign_in_is_refused(
    client: Client, database: Database, aiohttp_client: Any
) -> None:
    """Login CSRF: someone else's code and state, brought to a victim's browser."""
    callback = await at_provider(await start_sign_in(client))
    assert client.app is not None
    victim = await aiohttp_client(client.server)
    planted = await victim.get(path_of(callback), allow_redirects=False)
    assert planted.status == 400
    assert await live_sessions(database) == 0


async def test_a_sign_in_the_person_cancelled_at_microsoft_starts_no_session(
    client: Client, database: Database, provider: FakeOidcProvider
) -> None:
    provider.deny = True
    refused = await sign_in(client)
    assert refused.status == 401
    assert "Microsoft did not sign you in" in await refused.text()
    assert await live_sessions(database) == 0


async def test_a_code_is_exchanged_once(client: Client, provider: FakeOidcProvider) -> None:
    callback = await at_provider(await start_sign_in(client))
    assert (await client.get(path_of(callback), allow_redirects=False)).status == 303
    replayed = await client.get(path_of(callback), allow_redirects=False)
    assert replayed.status == 400  # the flow cookie went with the first use


async def test_signing_in_again_ends_the_earlier_session(
    client: Client, database: Database
) -> None:
    await sign_in(client)
    first = session_cookie(client)
    await sign_in(client)
    second = session_cookie(client)
    assert first and second and first != second
    sessions = client.app[ADMIN].sessions if client.app is not None else None
    assert sessions is not None
    assert await sessions.load_person(first) is None
    assert await sessions.load_person(second) is not None
    assert await live_sessions(database) == 1


async def test_signing_out_ends_the_session_on_the_server(
    client: Client, database: Database
) -> None:
    await sign_in(client)
    token = session_cookie(client)
    page = await client.get("/")
    out = await client.post(
        "/auth/logout", data={"csrf_token": csrf_of(await page.text())}, allow_redirects=False
    )
    assert out.status == 303
    assert out.headers["Location"] == "/auth/signed-out"
    assert await live_sessions(database) == 0
    # The old cookie, replayed, is worth nothing.
    client.session.cookie_jar.update_cookies({"ed_session": token})
    assert (await chat(client)).status == 403
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_signing_out_needs_the_sessions_csrf_token(
    client: Client, database: Database
) -> None:
    await sign_in(client)
    refused = await client.post("/auth/logout", data={"csrf_token": "x" * 43})
    assert refused.status == 403
    assert await live_sessions(database) == 1
    assert (await chat(client)).status == 200


async def test_a_session_left_idle_ends(client: Client, clock: FakeClock) -> None:
    await sign_in(client)
    clock.advance(minutes=59)
    assert (await client.get("/", allow_redirects=False)).status == 200
    clock.advance(minutes=61)
    assert (await client.get("/", allow_redirects=False)).status == 303
    assert (await chat(client)).status == 403


async def test_polling_for_messages_does_not_keep_a_session_alive(
    client: Client, clock: FakeClock
) -> None:
    await sign_in(client)
    clock.advance(minutes=40)
    assert (await client.get("/chat/api/messages")).status == 200
    clock.advance(minutes=30)
    assert (await client.get("/chat/api/messages")).status == 403


async def test_a_session_in_use_ends_at_its_absolute_time_out(
    client: Client, clock: FakeClock
) -> None:
    await sign_in(client)
    for _ in range(15):  # in use every half hour for seven and a half hours
        clock.advance(minutes=30)
        assert (await client.get("/", allow_redirects=False)).status == 200
    clock.advance(minutes=31)
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_someone_with_no_admin_grant_cannot_use_the_console(client: Client) -> None:
    await sign_in(client, "/admin")
    console = await client.get("/admin", allow_redirects=False)
    assert console.status == 403
    assert "cannot use the admin console" in await console.text()


@pytest.mark.parametrize(
    "user",
    [
        pytest.param(FakeUser(roles=("EvidenceDesk.Admin",)), id="app-role"),
        pytest.param(FakeUser(groups=("0B6E0000-AAAA-4BBB-8CCC-ADMINS000001",)), id="group"),
        pytest.param(FakeUser(email="head.librarian@nhs.net"), id="allow-list"),
    ],
)
async def test_an_admin_grant_from_the_sign_in_opens_the_console(
    client: Client, provider: FakeOidcProvider, user: FakeUser
) -> None:
    provider.user = user
    done = await sign_in(client, "/admin/kb")
    assert done.headers["Location"] == "/admin/kb"
    console = await client.get("/admin")
    assert console.status == 200
    assert f"Sign out {user.email}" in await console.text()


async def test_an_admin_account_made_on_the_command_line_signs_in_with_microsoft(
    client: Client, provider: FakeOidcProvider
) -> None:
    provider.user = FakeUser(email=EMAIL.replace("example.nhs.uk", "nhs.net"))
    assert client.app is not None
    await client.app[ADMIN].accounts.add(provider.user.email, None)
    await sign_in(client)
    assert (await client.get("/admin", allow_redirects=False)).status == 200


async def test_losing_the_admin_role_at_microsoft_ends_admin_rights_at_the_next_sign_in(
    client: Client, provider: FakeOidcProvider
) -> None:
    provider.user = FakeUser(roles=("EvidenceDesk.Admin",))
    await sign_in(client)
    assert (await client.get("/admin", allow_redirects=False)).status == 200
    provider.user = FakeUser(email=provider.user.email, oid=provider.user.oid)
    await sign_in(client)
    assert (await client.get("/admin", allow_redirects=False)).status == 403


async def test_a_deactivated_admin_account_is_not_revived_by_the_admin_role(
    client: Client, provider: FakeOidcProvider
) -> None:
    provider.user = FakeUser(roles=("EvidenceDesk.Admin",))
    await sign_in(client)
    assert client.app is not None
    await client.app[ADMIN].accounts.deactivate(provider.user.email)
    assert (await client.get("/admin", allow_redirects=False)).status == 303
    await sign_in(client)
    assert (await client.get("/admin", allow_redirects=False)).status == 403


async def test_a_specialists_web_identity_comes_from_the_sign_in_email(
    client: Client, database: Database, provider: FakeOidcProvider
) -> None:
    routing = RoutingService(database)
    made = await routing.add_specialist(
        NewSpecialist("Sam Librarian", email="Sam.Librarian@nhs.net",
                      identities=(Identity("slack", "U_SAM"),))
    )  # fmt: skip
    provider.user = FakeUser(email="sam.librarian@nhs.net")
    await sign_in(client)
    assert client.app is not None
    person = await client.app[ADMIN].sessions.load_person(session_cookie(client))
    assert person is not None and person.role == "specialist"
    linked = await routing.specialist_for("web", person.user_id)
    assert linked is not None and linked.id == made.id
    assert Identity("slack", "U_SAM") in linked.identities
    await sign_in(client)  # the same identity at every sign-in
    again = await client.app[ADMIN].sessions.load_person(session_cookie(client))
    assert again is not None and again.user_id == person.user_id


async def test_everyone_else_is_a_requester_with_an_identity_that_names_nobody(
    client: Client, provider: FakeOidcProvider
) -> None:
    await sign_in(client)
    assert client.app is not None
    person = await client.app[ADMIN].sessions.load_person(session_cookie(client))
    assert person is not None and person.role == "requester"
    assert person.user_id.startswith("sso-") and "bloggs" not in person.user_id


async def test_the_local_admin_accounts_still_sign_in_beside_microsoft(client: Client) -> None:
    page = await client.get("/admin/login")
    html = await page.text()
    assert "Sign in with Microsoft" in html
    signed = await client.post(
        "/admin/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_of(html)},
        allow_redirects=False,
    )
    assert signed.status == 303
    assert (await client.get("/admin")).status == 200


async def test_the_sign_in_logs_no_token_code_or_email_at_info(
    client: Client, provider: FakeOidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    callback = await at_provider(await start_sign_in(client))
    await client.get(path_of(callback), allow_redirects=False)
    provider.claims = {"aud": "another-app"}
    await sign_in(client)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "session" in logged and "sign-in refused: claim_aud" in logged
    for secret in (code, provider.user.email, session_cookie(client), "eyJ"):
        assert secret not in logged


async def test_the_session_and_flow_cookies_are_secure_over_tls(client: Client) -> None:
    from bot.platforms.web.keys import WEB_SETTINGS

    assert client.app is not None
    client.app[WEB_SETTINGS].secure_cookies = True  # as behind a TLS-terminating proxy
    started = await client.get("/auth/login?next=/", allow_redirects=False)
    assert started.cookies["ed_oidc"]["secure"] and started.cookies["ed_oidc"]["samesite"] == "Lax"
    callback = await at_provider(started.headers["Location"])
    # The test client is plain http, so it would not send a Secure cookie back: hand it over.
    client.session.cookie_jar.update_cookies({"ed_oidc": started.cookies["ed_oidc"].value})
    done = await client.get(path_of(callback), allow_redirects=False)
    assert done.status == 303
    assert done.cookies["ed_session"]["secure"]
    assert done.cookies["ed_session"]["httponly"]
