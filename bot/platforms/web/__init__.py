"""The web surfaces: the local web chat at `/` and the admin console at `/admin`.

`setup_web(app)` mounts both on the app `create_app` built, registers the web chat's
messenger with the outbox, and adds two background jobs: the demo team (demo mode only) and
keeping this worker's knowledge base on the latest published database version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.config.oidc import OidcSettings
from bot.config.web import WebSettings
from bot.delivery.web_messages import WebMessenger
from bot.desk.kb_versions import KbSync, KbVersions
from bot.keys import DATABASE, KNOWLEDGE, MESSENGERS, SETTINGS
from bot.network import is_loopback_host
from bot.platforms.web.admin import setup_admin
from bot.platforms.web.chat import add_chat_routes
from bot.platforms.web.demo import ensure_demo_team, retire_demo_team
from bot.platforms.web.keys import KB_SYNC, WEB_MESSENGER, WEB_SETTINGS
from bot.platforms.web.pages import STATIC_DIR, add_security_headers, styled_not_found
from bot.platforms.web.sso.routes import setup_sso

__all__ = ["KB_SYNC", "WEB_MESSENGER", "WEB_SETTINGS", "WebSettings", "setup_web"]

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
    sync = KbSync(KbVersions(db), app[KNOWLEDGE])
    app[KB_SYNC] = sync
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
        sync = app[KB_SYNC]
        try:
            await ensure_demo_team(db, settings)
            await retire_demo_team(db, settings)
        except Exception:
            log.exception("could not set up (or retire) the demo team")
        try:
            await sync.start(app[SETTINGS].kb_dir)
        except Exception:
            log.exception("could not load the knowledge base from the database; using the files")

        async def poll() -> None:
            while True:
                await asyncio.sleep(settings.kb_poll_seconds)
                try:
                    await sync.poll()
                except Exception:
                    log.exception("checking for a new knowledge base version failed")

        task = asyncio.create_task(poll(), name="kb-versions") if settings.kb_poll_seconds else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context
