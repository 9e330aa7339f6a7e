"""What every admin console page shares: its services, the session check and CSRF check, and
rendering with the signed-in admin's details."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.desk.kb_versions import KbVersions
from bot.desk.tickets.stranded import routing_warning
from bot.keys import DATABASE, SETTINGS
from bot.platforms.web.auth import (
    AdminAccounts,
    Authenticator,
    LoginLimiter,
    PersonSession,
    Session,
    SessionStore,
)
from bot.platforms.web.pages import render

SESSION_COOKIE: Final = "ed_admin"
#: The single sign-on session's cookie (bot/platforms/web/sso/routes.py): the whole site's, Lax.
SSO_COOKIE: Final = "ed_session"
LOGIN_CSRF_COOKIE: Final = "ed_login_csrf"
CSRF_FIELD: Final = "csrf_token"
CSRF_FAILED: Final = (
    "This form was not accepted: its security token was missing or out of date (CSRF check). "
    "Go back, reload the page and try again."
)


@dataclass
class AdminServices:
    accounts: AdminAccounts
    limiter: LoginLimiter
    sessions: SessionStore
    authenticator: Authenticator
    versions: KbVersions
    today: Callable[[], date] = date.today


ADMIN = web.AppKey("admin_services", AdminServices)

Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]


def same_token(given: object, expected: str) -> bool:
    return isinstance(given, str) and bool(given) and hmac.compare_digest(given, expected)


def check_origin(request: web.Request) -> None:
    """A browser names the page a POST came from; refuse one from another site outright."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        host = urlsplit(origin).netloc
        if host != request.host:
            raise web.HTTPForbidden(text=CSRF_FAILED)


def protected(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Only for a signed-in admin (a password session, or a single sign-on session whose
    person may use the console); and every POST must carry the session's CSRF token."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        services = request.app[ADMIN]
        session = await services.sessions.load(request.cookies.get(SESSION_COOKIE, ""))
        person: PersonSession | None = None
        if session is None:
            person = await services.sessions.load_person(request.cookies.get(SSO_COOKIE, ""))
            if person is not None and person.admin is not None:
                session = Session(person.id, person.admin, person.csrf_token, person.expires_at)
        if session is None and person is not None:
            # Signed in, but not as an admin: say so rather than offer a sign-in again.
            if request.method != "GET":
                raise web.HTTPForbidden(text="Your account cannot use the admin console.")
            return render("admin/not_admin.html", status=403, person_csrf=person.csrf_token)
        if session is None:
            if request.method == "GET":
                raise web.HTTPSeeOther(f"/admin/login?next={quote(request.path_qs)}")
            raise web.HTTPForbidden(text="Please sign in again.")
        if request.method == "POST":
            check_origin(request)
            data = await request.post()
            token = data.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token")
            if not same_token(token, session.csrf_token):
                raise web.HTTPForbidden(text=CSRF_FAILED)
        if request.method == "GET":
            request[ALERTS] = await _alerts(request.app)
        return await handler(request, session)

    return wrapped


ALERTS: Final = web.RequestKey("ed_admin_alerts", tuple[str, ...])


async def _alerts(app: web.Application) -> tuple[str, ...]:
    """Shown at the top of every console page: what an admin must act on."""
    warning = await routing_warning(app[DATABASE], app[SETTINGS].general_queue)
    return (warning,) if warning else ()


def page(
    request: web.Request, session: Session, template: str, status: int = 200, **context: Any
) -> web.Response:
    return render(
        template,
        status=status,
        admin=session.admin,
        csrf=session.csrf_token,
        path=request.path,
        alerts=request.get(ALERTS, ()),
        **context,
    )


async def form_data(request: web.Request) -> dict[str, str]:
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str)}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only, never another site."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"
