"""The sign-in routes: GET /auth/login, GET /auth/callback, POST /auth/logout.

* /auth/login makes a fresh state, nonce and PKCE verifier, keeps them in a short-lived cookie
  signed with the server secret (so any replica can finish the sign-in) and sends the browser
  to Microsoft. The cookie is SameSite=Lax: the callback is a top-level navigation from
  Microsoft's site, on which a Strict cookie would not be sent.
* /auth/callback checks the state against that cookie, exchanges the code (with the PKCE
  verifier) and verifies the ID token (bot/platforms/web/sso/client.py), decides who the person is here
  (bot/platforms/web/sso/people.py), ends any session the browser had (the session id is rotated at
  sign-in) and starts a server-side one (bot/platforms/web/auth.py `SessionStore`): an HttpOnly,
  SameSite=Lax `ed_session` cookie for the whole site, Secure over TLS.
* /auth/logout ends the session in the database, so the cookie is worthless afterwards even
  if it was copied.

The log says why a sign-in was refused by a short reason code; it never holds a token, a code
or an email address.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web

from bot.config.oidc import OidcSettings
from bot.keys import DATABASE, SETTINGS, SIGNER
from bot.platforms.web.admin.common import (
    ADMIN,
    CSRF_FAILED,
    CSRF_FIELD,
    SESSION_COOKIE,
    SSO_COOKIE,
    check_origin,
)
from bot.platforms.web.auth import PersonSession
from bot.platforms.web.clients import client, secure_cookies
from bot.platforms.web.keys import SSO_ON, WEB_SETTINGS
from bot.platforms.web.pages import render
from bot.platforms.web.sso.client import OidcClient, SignInRefused
from bot.platforms.web.sso.people import SignInPolicy

log = logging.getLogger(__name__)

FLOW_COOKIE: Final = "ed_oidc"
FLOW_PURPOSE: Final = "oidc-flow"
FLOW_SECONDS: Final = 600
CALLBACK_PATH: Final = "/auth/callback"


@dataclass
class SsoServices:
    settings: OidcSettings
    client: OidcClient
    policy: SignInPolicy


SSO = web.AppKey("sso", SsoServices)
#: The single sign-on session behind a chat API request (set by `person_middleware`).
PERSON: Final = web.RequestKey("ed_person", PersonSession)


def sso_enabled(app: web.Application) -> bool:
    return SSO in app


def setup_sso(app: web.Application, settings: OidcSettings | None = None) -> None:
    """Mount the sign-in routes when a client id is configured; without one, nothing."""
    settings = settings or app[SETTINGS].oidc
    if not settings.enabled:
        return
    admin = app[ADMIN]
    oidc = OidcClient(settings)
    app[SSO_ON] = True
    app[SSO] = SsoServices(settings, oidc, SignInPolicy(settings, app[DATABASE], admin.accounts))
    app.router.add_get("/auth/login", sign_in)
    app.router.add_get(CALLBACK_PATH, callback)
    app.router.add_post("/auth/logout", sign_out)
    app.router.add_get("/auth/signed-out", signed_out)
    app.middlewares.append(person_middleware)

    async def close(app: web.Application) -> AsyncIterator[None]:
        yield
        await oidc.close()

    app.cleanup_ctx.append(close)


def safe_target(target: str | None) -> str:
    """Where to go after signing in: a page of this site (the chat or the console) only."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\", "/auth")):
        return target[:2000]
    return "/"


def redirect_uri(request: web.Request) -> str:
    configured = request.app[SSO].settings.redirect_url
    if configured:
        return configured
    scheme = "https" if client(request).secure else "http"
    return f"{scheme}://{request.host}{CALLBACK_PATH}"


def _refused(request: web.Request, refusal: SignInRefused, target: str = "/") -> web.Response:
    log.warning("sign-in refused: %s", refusal.reason)
    return render(
        "auth_error.html",
        status=refusal.status,
        message=refusal.message,
        retry=f"/auth/login?next={quote(target)}",
    )


async def sign_in(request: web.Request) -> web.Response:
    target = safe_target(request.query.get("next"))
    try:
        started = await request.app[SSO].client.authorization(redirect_uri(request))
    except SignInRefused as refusal:
        return _refused(request, refusal, target)
    flow = {
        "s": started.state,
        "n": started.nonce,
        "v": started.verifier,
        "t": target,
        "e": int(time.time()) + FLOW_SECONDS,
    }
    payload = base64.urlsafe_b64encode(json.dumps(flow).encode()).decode()
    response = web.HTTPFound(started.url)
    response.set_cookie(
        FLOW_COOKIE,
        request.app[SIGNER].sign(FLOW_PURPOSE, payload),
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(request),
        path="/auth",
    )
    raise response


def _flow(request: web.Request) -> dict[str, Any]:
    """The sign-in this browser started, if its cookie is ours, unexpired, and its state is
    the one the identity provider sent back."""
    bad_state = SignInRefused(
        "bad_state",
        "This sign-in was not started here or has expired. Please sign in again.",
        400,
    )
    cookie = request.cookies.get(FLOW_COOKIE, "")
    payload = request.app[SIGNER].unsign(FLOW_PURPOSE, cookie) if len(cookie) < 4000 else None
    if payload is None:
        raise bad_state
    try:
        flow = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError as exc:
        raise bad_state from exc
    if not isinstance(flow, dict) or not all(isinstance(flow.get(k), str) for k in "snvt"):
        raise bad_state
    if not isinstance(flow.get("e"), int) or flow["e"] < time.time():
        raise bad_state
    state = request.query.get("state", "")
    if not state or not hmac.compare_digest(state.encode(), flow["s"].encode()):
        raise bad_state
    return flow


async def callback(request: web.Request) -> web.Response:
    services = request.app[SSO]
    sessions = request.app[ADMIN].sessions
    try:
        flow = _flow(request)
        if "error" in request.query or not request.query.get("code"):
            # e.g. access_denied: the person cancelled, or the tenant refused the app.
            raise SignInRefused(
                f"provider_error_{request.query.get('error', 'no_code')[:40]}",
                "Microsoft did not sign you in. Please try again.",
            )
        identity = await services.client.sign_in(
            request.query["code"], redirect_uri(request), flow["v"], flow["n"]
        )
        person = await services.policy.person(identity)
    except SignInRefused as refusal:
        target = "/"
        raw = request.app[SIGNER].unsign(FLOW_PURPOSE, request.cookies.get(FLOW_COOKIE, ""))
        if raw is not None:
            try:
                target = safe_target(json.loads(base64.urlsafe_b64decode(raw.encode())).get("t"))
            except (ValueError, AttributeError):
                pass
        response = _refused(request, refusal, target)
        response.del_cookie(FLOW_COOKIE, path="/auth")
        return response
    # A new session id at every sign-in: whatever session the browser had before ends.
    for name in (SSO_COOKIE, SESSION_COOKIE):
        if old := request.cookies.get(name):
            await sessions.end(old)
    token, session = await sessions.start_person(person)
    log.info(
        "sign-in: session %s started with single sign-on (%s%s)",
        session.id,
        person.role,
        ", admin" if person.admin else "",
    )
    redirect = web.HTTPSeeOther(safe_target(flow["t"]))
    set_session_cookie(request, redirect, token)
    redirect.del_cookie(FLOW_COOKIE, path="/auth")
    redirect.del_cookie(SESSION_COOKIE, path="/admin")
    raise redirect


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    # Lax, not Strict: the first page after the callback is reached by a redirect that began
    # on Microsoft's site, and a Strict cookie would not be sent with it.
    response.set_cookie(
        SSO_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(request),
        path="/",
    )


async def current_person(request: web.Request, *, touch: bool = True) -> PersonSession | None:
    return await request.app[ADMIN].sessions.load_person(
        request.cookies.get(SSO_COOKIE, ""), touch=touch
    )


async def sign_out(request: web.Request) -> web.Response:
    """Ends the session server-side. Needs the session's CSRF token, so another site cannot
    sign someone out."""
    check_origin(request)
    person = await current_person(request, touch=False)
    if person is not None:
        data = await request.post()
        given = data.get(CSRF_FIELD)
        if not isinstance(given, str) or not hmac.compare_digest(
            given.encode(), person.csrf_token.encode()
        ):
            raise web.HTTPForbidden(text=CSRF_FAILED)
        await request.app[ADMIN].sessions.end(request.cookies.get(SSO_COOKIE, ""))
        log.info("sign-out: session %s ended", person.id)
    response = web.HTTPSeeOther("/auth/signed-out")
    response.del_cookie(SSO_COOKIE, path="/")
    raise response


async def signed_out(request: web.Request) -> web.Response:
    return render("signed_out.html")


@web.middleware
async def person_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The chat API's speaker, outside demo mode, is the signed-in person. Polling for new
    messages does not count as use: an open tab left alone still reaches its idle time-out."""
    if request.path.startswith("/chat/api/") and not request.app[WEB_SETTINGS].demo:
        polling = request.method == "GET" and request.path == "/chat/api/messages"
        person = await current_person(request, touch=not polling)
        if person is not None:
            request[PERSON] = person
    return await handler(request)
