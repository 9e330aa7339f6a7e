"""The admin console at /admin: sign-in, the knowledge base, the learning loop, tickets, team,
listening mode.

Every page but the sign-in page is `protected` (bot/platforms/web/admin/common.py): a live session
cookie, and on every POST the session's CSRF token. See docs/admin.md.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from aiohttp import web

from bot.keys import DATABASE, DESK, KB_SYNC, KNOWLEDGE
from bot.platforms.web.admin.common import (
    ADMIN,
    CSRF_FAILED,
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SSO_COOKIE,
    AdminServices,
    check_origin,
    form_data,
    page,
    protected,
    safe_next,
    same_token,
)
from bot.platforms.web.admin.insights import add_insight_routes
from bot.platforms.web.admin.kb import add_kb_routes
from bot.platforms.web.admin.listening import add_listening_routes
from bot.platforms.web.admin.team import add_team_routes
from bot.platforms.web.auth import (
    AdminAccounts,
    LoginLimiter,
    PasswordAuthenticator,
    Session,
    SessionStore,
)
from bot.platforms.web.clients import client, secure_cookies
from bot.platforms.web.keys import SSO_ON, WEB_SETTINGS
from bot.platforms.web.pages import render

__all__ = ["ADMIN", "AdminServices", "setup_admin"]


def setup_admin(app: web.Application) -> None:
    settings = app[WEB_SETTINGS]
    db = app[DATABASE]
    accounts = AdminAccounts(db)
    limiter = LoginLimiter(
        db, settings.login_max_failures, timedelta(minutes=settings.login_window_minutes)
    )
    app[ADMIN] = AdminServices(
        accounts=accounts,
        limiter=limiter,
        sessions=SessionStore(
            db,
            timedelta(hours=settings.session_hours),
            timedelta(minutes=settings.session_idle_minutes),
        ),
        authenticator=PasswordAuthenticator(accounts, limiter),
        versions=app[KB_SYNC].versions,  # the same files fallback the server answers by
    )
    app.router.add_get("/admin/login", login_page)
    app.router.add_post("/admin/login", login)
    app.router.add_post("/admin/logout", protected(logout))
    app.router.add_get("/admin", protected(overview))
    add_kb_routes(app)
    add_insight_routes(app)
    add_team_routes(app)
    add_listening_routes(app)


def _login_form(
    request: web.Request, error: str | None = None, status: int = 200, email: str = ""
) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        "admin/login.html",
        status=status,
        csrf=token,
        error=error,
        email=email,
        next=safe_next(request.query.get("next")),
        sso=request.app.get(SSO_ON, False),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
        path="/admin",
        max_age=3600,
    )
    return response


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request)


async def login(request: web.Request) -> web.Response:
    """Double-submit CSRF (cookie and field must match) before any account is looked at."""
    check_origin(request)
    data = await form_data(request)
    if not same_token(data.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        raise web.HTTPForbidden(text=CSRF_FAILED)
    services = request.app[ADMIN]
    result = await services.authenticator.authenticate(data, client(request).address)
    if result.admin is None:
        status = 429 if result.rate_limited else 401
        return _login_form(request, result.error, status, data.get("email", "")[:320])
    if old := request.cookies.get(SESSION_COOKIE):
        await services.sessions.end(old)  # a new session id at every sign-in
    token, _ = await services.sessions.start(result.admin)
    response = web.HTTPSeeOther(safe_next(data.get("next")))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
        path="/admin",
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    raise response


async def logout(request: web.Request, session: Session) -> web.Response:
    """Ends the session in the database, whichever way it was signed in."""
    sessions = request.app[ADMIN].sessions
    for name in (SESSION_COOKIE, SSO_COOKIE):
        if token := request.cookies.get(name):
            await sessions.end(token)
    response = web.HTTPSeeOther("/admin/login")
    response.del_cookie(SESSION_COOKIE, path="/admin")
    response.del_cookie(SSO_COOKIE, path="/")
    raise response


async def overview(request: web.Request, session: Session) -> web.Response:
    services = request.app[ADMIN]
    kb = request.app[KNOWLEDGE].current.kb
    today = services.today()
    versions = await services.versions.list(limit=1)
    unanswered = await request.app[DESK].feedback.unanswered(limit=500)
    return page(
        request,
        session,
        "admin/overview.html",
        kb=kb,
        latest=versions[0] if versions else None,
        overdue=[e for e in kb.entries if e.review_overdue(today)],
        unanswered=sum(u.count for u in unanswered),
    )
