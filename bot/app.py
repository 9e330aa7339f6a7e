"""`create_app(settings)`: the one place the web server is assembled.

No import-time globals: everything shared lives under typed `web.AppKey`s, and background work
starts and stops with the app (cleanup_ctx), so tests can build as many apps as they like.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.config import Settings
from handlers.router import Router
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
KNOWLEDGE = web.AppKey("knowledge", KnowledgeStore)
ROUTER = web.AppKey("router", Router)


async def healthz(request: web.Request) -> web.Response:
    """Process is up and serving a KB; readiness checks (database) come with persistence."""
    snapshot = request.app[KNOWLEDGE].current
    return web.json_response(
        {"status": "ok", "kb_version": snapshot.kb.version, "kb_entries": len(snapshot.kb.entries)}
    )


async def _watch_knowledge(app: web.Application) -> AsyncIterator[None]:
    """Pick up KB edits without a restart; a broken edit is logged and the old KB kept."""
    interval = app[SETTINGS].kb_reload_seconds

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(app[KNOWLEDGE].reload_if_changed)
            except Exception:
                log.exception("knowledge base watcher failed; will try again")

    task = asyncio.create_task(loop()) if interval > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(settings: Settings) -> web.Application:
    store = KnowledgeStore.from_directory(settings.kb_dir)
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[KNOWLEDGE] = store
    app[ROUTER] = Router(store, settings)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(_watch_knowledge)
    return app
