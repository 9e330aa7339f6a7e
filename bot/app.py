"""`create_app(settings)`: the web server around the desk.

The desk and its services come from `bot.services.build_services` (the one place they are
made, shared with the CLI and the tests); this module adds the HTTP routes, mounts the
platform adapters and runs the background work. Only entry points import it.

No import-time globals: everything shared lives under typed `web.AppKey`s (bot/keys.py), and
background work (the KB sync, the outbox worker, the escalation scheduler) starts and stops
with the app (cleanup_ctx), so tests can build as many apps as they like. The KB sync is the
server's, not an adapter's: whatever is mounted, the bot answers from the latest version
published in the database, else from the KB files (bot/desk/kb_sync.py has the rule). Adapters (Slack, Teams, web chat)
mount their routes here and register a `Messenger` for their platform.

Graceful shutdown (SIGTERM): aiohttp stops listening first, so no new work is taken; the
background loops finish the round they are in rather than being cut off mid-job (an escalation
is recorded and queued together); acknowledged events still being answered get
`shutdown_grace_seconds` to finish, and those that do not are handed back (their journal lease
released, so a peer replays them at once); then the outbox worker makes a last round.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.clock import utc_now
from bot.config import Settings
from bot.db.migrate import head_revision, upgrade
from bot.db.startup import wait_for_database
from bot.delivery.journal import InboundJournal
from bot.delivery.outbox import OutboxWorker
from bot.delivery.retention import Retention, RetentionPolicy
from bot.desk.kb_sync import KbSync
from bot.desk.tickets.stranded import routing_warning
from bot.gc_pauses import FullCollections
from bot.keys import (
    ANSWER_GATE,
    ANSWERER,
    DATABASE,
    DESK,
    INBOX,
    JOURNAL,
    KB_SYNC,
    KNOWLEDGE,
    MESSENGERS,
    OUTBOX,
    SCHEMA_HEAD,
    SETTINGS,
    SIGNER,
    WORKER,
)
from bot.observability import METRICS, metrics_endpoint, metrics_middleware
from bot.platforms.slack import setup_slack
from bot.platforms.teams import setup_teams
from bot.platforms.web import setup_web
from bot.services import Services, build_services
from handlers.escalations import run_escalations

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """The process is up and serving a KB (liveness: no dependency checks)."""
    snapshot = request.app[KNOWLEDGE].current
    return web.json_response(
        {"status": "ok", "kb_version": snapshot.kb.version, "kb_entries": len(snapshot.kb.entries)}
    )


async def readyz(request: web.Request) -> web.Response:
    """Ready for traffic: the database answers, its schema is this release's, and a KB is
    loaded; 503 otherwise, with what is wrong."""
    store = request.app[KNOWLEDGE]
    checks: dict[str, str] = {
        "kb": f"{len(store.current.kb.entries)} entries",
        "matcher": store.matcher,
    }
    ok = True
    revision: str | None = None
    try:
        async with request.app[DATABASE].engine.connect() as connection:
            await asyncio.wait_for(connection.execute(text("SELECT 1")), timeout=2)
            try:
                revision = await asyncio.wait_for(
                    connection.scalar(text("SELECT version_num FROM alembic_version")), timeout=2
                )
            except DBAPIError:  # no alembic_version table: never migrated
                revision = None
        checks["database"] = "ok"
    except Exception as exc:
        ok = False
        checks["database"] = f"unavailable ({exc.__class__.__name__})"
    else:
        # A replica of a newer release must not take traffic on an old schema (or the reverse).
        expected = request.app[SCHEMA_HEAD]
        if revision == expected:
            checks["migrations"] = f"current ({expected})"
        else:
            ok = False
            found = "not migrated" if revision is None else f"at {revision}"
            checks["migrations"] = (
                f"{found}, this release needs {expected}: run `evidence-desk db upgrade`"
            )
    if ok:
        # A warning, not a failure: the process can serve, but some requests reach no one.
        try:
            warning = await routing_warning(
                request.app[DATABASE], request.app[SETTINGS].general_queue
            )
        except Exception:
            log.exception("could not check where requests go")
            warning = "could not be checked (see the log)"
        if warning:
            checks["routing"] = f"warning: {warning}"
    return web.json_response(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


async def _stop(task: asyncio.Task[None], grace: float) -> None:
    """Let a task that was asked to stop finish within `grace` seconds, else cancel it."""
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        log.warning("%s did not stop within %.0f s; cancelled", task.get_name(), grace)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _every(
    seconds: float, job: Callable[[], Awaitable[object]], name: str, *, first_after: float = 0
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A background loop that survives its job's failures (logged) and stops with the app:
    at shutdown a round in progress is finished (within the grace period), not cut off."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        stopping = asyncio.Event()

        async def loop() -> None:
            if first_after > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), first_after)
            while not stopping.is_set():
                try:
                    await job()
                except Exception:
                    log.exception("%s failed; will try again", name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), seconds)

        task = asyncio.create_task(loop(), name=name)
        yield
        stopping.set()
        await _stop(task, app[SETTINGS].shutdown_grace_seconds)

    return context


def _outbox_worker(worker: OutboxWorker) -> Callable[[web.Application], AsyncIterator[None]]:
    """The outbox worker; at shutdown it makes a last round (queued answers go out)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(worker.run(), name="outbox")
        yield
        worker.stop()
        await _stop(task, app[SETTINGS].shutdown_grace_seconds)

    return context


def _hand_back(journal: InboundJournal) -> Callable[[web.Application], AsyncIterator[None]]:
    """At shutdown: events in flight finish, or go back to the journal for a peer to replay."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        yield
        try:
            await journal.release_held(app[SETTINGS].shutdown_grace_seconds)
        except Exception:  # the database is gone: the leases run out instead
            log.exception("could not hand back unfinished inbound events")

    return context


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    await wait_for_database(app[DATABASE], settings.database_url, settings.database_wait_seconds)
    if settings.migrate_at_start:
        await upgrade(settings.database_url)
    yield
    await app[DATABASE].dispose()


def _kb_sync(sync: KbSync) -> Callable[[web.Application], AsyncIterator[None]]:
    """The KB sync: one look before the server takes traffic (so it never answers from the
    files while a published version exists), then one every `kb_reload_seconds`."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        try:
            await sync.poll()
        except Exception:
            log.exception("could not read the published knowledge base; answering from the files")
        seconds = app[SETTINGS].kb_reload_seconds
        if seconds <= 0:
            yield
            return
        async for _ in _every(seconds, sync.poll, "kb-sync", first_after=seconds)(app):
            yield

    return context


Adapter = Callable[[web.Application], object]


def create_app(
    settings: Settings,
    services: Services | None = None,
    *,
    adapters: Sequence[Adapter] | None = None,
) -> web.Application:
    """The web server around the desk: health and metrics routes, the platform adapters, and
    the background work, started and stopped with the app.

    `adapters` are the platforms' setup functions to mount (default: Slack, Teams and the web
    chat and console, each of which mounts only what its settings enable); the core and its
    background work, the KB sync among them, do not depend on which are mounted."""
    services = services or build_services(settings)
    metrics = services.metrics
    store, db, tickets, outbox = (
        services.knowledge,
        services.database,
        services.tickets,
        services.outbox,
    )
    journal, inbox, worker = services.journal, services.inbox, services.worker
    app = web.Application(client_max_size=1024 * 1024, middlewares=[metrics_middleware(metrics)])
    app[METRICS] = metrics
    app[SETTINGS] = settings
    app[SCHEMA_HEAD] = head_revision()
    app[SIGNER] = services.signer
    app[KNOWLEDGE] = store
    app[ANSWERER] = services.answerer
    app[KB_SYNC] = services.kb_sync
    app[DATABASE] = db
    app[OUTBOX] = outbox
    app[DESK] = services.desk
    app[JOURNAL] = journal
    app[ANSWER_GATE] = services.gate
    app[INBOX] = inbox
    app[MESSENGERS] = services.messengers
    app[WORKER] = worker
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)

    async def escalate() -> None:
        raised = await run_escalations(
            db, services.requests, utc_now(), settings.unclaimed_escalation_working_hours
        )
        for escalation in raised:
            metrics.escalations.labels(escalation.kind.value).inc()

    async def refresh_gauges() -> None:
        for status, count in (await tickets.count_by_status()).items():
            metrics.tickets.labels(status).set(count)
        depth, age = await outbox.depth()
        metrics.outbox_depth.set(depth)
        metrics.outbox_age.set(age)

    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_kb_sync(services.kb_sync))
    app.cleanup_ctx.append(_outbox_worker(worker))
    # Stopped before the outbox worker, so the answers of events that finish in the grace
    # period go out in the worker's last round.
    app.cleanup_ctx.append(_hand_back(journal))
    app.cleanup_ctx.append(_every(settings.escalation_interval_seconds, escalate, "escalations"))
    app.cleanup_ctx.append(_every(15, refresh_gauges, "metrics-gauges"))

    app.cleanup_ctx.append(
        _every(settings.replay_interval_seconds, inbox.replay_stale, "inbound-replay")
    )
    app.cleanup_ctx.append(_every(3600, journal.forget_finished, "inbound-forget"))
    retention = Retention(db, RetentionPolicy.from_settings(settings))
    app.cleanup_ctx.append(_every(3600, retention.purge, "retention", first_after=60))
    for mount in (setup_slack, setup_teams, setup_web) if adapters is None else adapters:
        mount(app)
    # Full garbage collections between bursts (bot/gc_pauses.py).
    gate = services.gate
    collections = FullCollections(lambda: gate.acknowledging_now > 0 or gate.answering_now > 0)
    app.cleanup_ctx.append(_full_collections(collections))
    # Last, after every startup step above (on_startup hooks run after the cleanup contexts).
    app.on_startup.append(_freeze_startup_objects)
    return app


def _full_collections(
    collections: FullCollections,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Full garbage collections made by `collections` (checked every second) while the app
    runs; by CPython again once it has stopped."""
    every_second = _every(1.0, _as_job(collections.check), "full-collections", first_after=1.0)

    async def context(app: web.Application) -> AsyncIterator[None]:
        collections.take_over()
        try:
            async for _ in every_second(app):
                yield
        finally:
            collections.hand_back()

    return context


def _as_job(check: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def job() -> object:
        return check()

    return job


async def _freeze_startup_objects(app: web.Application) -> None:
    """Keep what was built at startup (the KB index, the ORM's mappings, the SDKs' modules:
    hundreds of thousands of objects) out of the garbage collector's full passes.

    They live as long as the process, yet a full collection walks all of them every time,
    and under a burst those passes ran 80-140 ms, stalling every request on the event loop
    (they were the acknowledgement p99). Frozen, a full pass walks only what came later."""
    gc.collect()
    gc.freeze()
