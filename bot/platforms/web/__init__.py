"""The web surfaces: the local web chat at `/` and the admin console at `/admin`.

`setup_web(app)` mounts both on the app `create_app` built, registers the web chat's
messenger with the outbox, and sets up (or retires) the demo team. Keeping the knowledge
base on its published versions is not the web package's business: `create_app` does it for
every server (bot/desk/kb_sync.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.config.oidc import OidcSettings
from bot.config.web import WebSettings
from bot.delivery.web_messages import WebMessenger
from bot.keys import DATABASE, MESSENGERS, SETTINGS
from bot.network import is_loopback_host
from bot.platforms.web.admin import setup_admin
from bot.platforms.web.chat import add_chat_routes
from bot.platforms.web.demo import ensure_demo_team, retire_demo_team
from bot.platforms.web.keys import WEB_MESSENGER, WEB_SETTINGS
from bot.platforms.web.pages import STATIC_DIR, add_security_headers, styled_not_found
from bot.platforms.web.sso.routes import setup_sso

__all__ = ["WEB_MESSENGER", "WEB_SETTINGS", "WebSettings", "setup_web"]

log = logging.getLogger(__name__)


def setup_web(
    app: web.Application,
    settings: WebSettings | None = None,
    sso: OidcSettings | None = None,
) -> None:
    """Mount the web chat, the admin console, sign-in and their static files on `app`
    (settings from `Settings.web` and `Settings.oidc` unless given)."""
    settings = settings or app[SETTINGS].web
    sso = sso or app[SETTINGS].oidc
    host = app[SETTINGS].host
    if settings.demo and not is_loopback_host(host):
        raise ValueError(
            f"EVIDENCE_DESK_WEB_DEMO is on but EVIDENCE_DESK_HOST is {host!r}: in demo mode "
            "anyone can act as anyone, so it runs only on a loopback host (127.0.0.1). Turn "
            "demo mode off, or listen on 127.0.0.1."
        )
    if settings.demo:
        log.warning(
            "DEMO MODE: anyone who can open http://%s:%s/ can act as any person in the web "
            "chat, including the demo knowledge specialist. For trying Evidence Desk on this "
            "machine only.",
            host,
            app[SETTINGS].port,
        )
    db = app[DATABASE]
    app[WEB_SETTINGS] = settings
    messenger = WebMessenger(db)
    app[WEB_MESSENGER] = messenger
    app[MESSENGERS]["web"] = messenger
    add_chat_routes(app)
    setup_admin(app)
    setup_sso(app, sso)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=False)
    app.on_response_prepare.append(add_security_headers)
    app.middlewares.append(styled_not_found)
    app.cleanup_ctx.append(_start(settings))


def _start(settings: WebSettings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        db = app[DATABASE]
        try:
            await ensure_demo_team(db, settings)
            await retire_demo_team(db, settings)
        except Exception:
            log.exception("could not set up (or retire) the demo team")
        yield

    return context
