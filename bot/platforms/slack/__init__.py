"""Evidence Desk in Slack: slack-bolt's AsyncApp on our aiohttp server, or over Socket Mode.

`setup_slack(app)` does nothing unless SLACK_BOT_TOKEN is set. HTTP mode mounts one URL,
POST /slack/events, for events, interactivity, slash commands and options; Bolt checks every
request's signature (HMAC-SHA256 over the raw body, 5-minute window) before anything is parsed.
With SLACK_APP_TOKEN set, Socket Mode connects out to Slack instead, for networks that cannot
expose a public URL; then no Slack URL is mounted at all (POST /slack/events is a 404), because
Slack's traffic arrives only over the authenticated socket and an HTTP endpoint with no
signature to check would take anyone's forged events. Socket Mode needs only the bot and app
tokens, not the signing secret.

When the database cannot be reached, a request is answered 503 with Retry-After and a JSON
error, never 200: an event is journalled before it is acknowledged (bot/delivery/journal.py), and one
that cannot be journalled must not be taken, or it could be lost; Slack retries it (same
event_id, X-Slack-Retry-Num) and the retry is answered once the database is back. Commands,
shortcuts, buttons and modal submissions are not journalled, so the database is checked
(`Database.ping`) before they are acknowledged. Other failures stay 500s, logged
(bot/db/errors.py tells the two apart).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.config.slack import SlackSettings
from bot.db.errors import is_database_unavailable, unavailable_body, unavailable_headers
from bot.db.session import Database
from bot.keys import ANSWER_GATE, DATABASE, DESK, INBOX, MESSENGERS, SETTINGS
from bot.platforms.slack.listeners import SlackListeners
from bot.platforms.slack.messenger import SlackMessenger
from bot.platforms.slack.quiet_logs import bolt_logger
from bot.platforms.slack.render import submission_problem

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
BOLT = web.AppKey("slack_bolt", AsyncApp)


def build_bolt(settings: SlackSettings, app: web.Application) -> AsyncApp:
    client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.signing_secret or None,
        request_verification_enabled=not settings.socket_mode,
        process_before_response=False,
        name="evidence-desk",
        logger=bolt_logger(),  # no request body in the log (bot/platforms/slack/quiet_logs.py)
    )
    listeners = SlackListeners(app[DESK], app[INBOX])
    listeners.register(bolt)  # its journalling middleware runs first
    bolt.middleware(_database_reachable(app[DATABASE]))
    bolt.error(_on_error)
    return bolt


def _database_reachable(
    db: Database,
) -> Callable[[dict[str, Any], Callable[[], Awaitable[None]]], Awaitable[None]]:
    """Middleware: a request that is not a journalled event (a command, shortcut, button or
    modal submission) is only acknowledged if the database answers; else it raises, and
    `_on_error` makes that a 503. Events were journalled already, which proved the same."""

    async def database_reachable(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        if not (isinstance(body, dict) and body.get("type") == "event_callback"):
            await db.ping()
        await next()

    return database_reachable


async def _on_error(error: Exception, response: BoltResponse | None) -> BoltResponse | None:
    """Bolt's error handler, for middleware and listeners alike. Before the acknowledgement
    (`response` is the one Slack will get), the database being unreachable is a 503, which
    Slack retries; anything else is logged and stays Bolt's 500. After it (a listener still
    working on an acknowledged event), there is no response to change: the journal replays
    the event once the database is back."""
    if not is_database_unavailable(error):
        log.error("could not process a Slack request", exc_info=error)
        return None
    if response is None:
        log.warning("database unavailable while finishing an acknowledged Slack event: %s", error)
        return None
    log.warning("database unavailable; Slack request refused with 503: %s", error)
    headers: dict[str, str | Sequence[str]] = {
        "content-type": "application/json",
        **unavailable_headers(),
    }
    return BoltResponse(status=503, body=unavailable_body(), headers=headers)


def well_formed(body: dict[str, Any]) -> bool:
    """The minimum every Slack request has: an event or payload type, or a slash command."""
    if not isinstance(body, dict) or not body:
        return False
    if "command" in body:
        return True
    kind = body.get("type")
    if kind == "view_submission":
        view = body.get("view")
        return (
            isinstance(view, dict)
            and isinstance(view.get("type"), str)
            and submission_problem(body) is None
        )
    if kind == "view_closed":
        view = body.get("view")
        return isinstance(view, dict) and isinstance(view.get("type"), str)
    if kind == "event_callback":
        return isinstance(body.get("event"), dict) and isinstance(body["event"].get("type"), str)
    return isinstance(kind, str)


def setup_slack(app: web.Application, settings: SlackSettings | None = None) -> bool:
    """Connect Slack if it is configured; returns whether it was."""
    settings = settings or app[SETTINGS].slack
    if not settings.enabled:
        log.info("Slack is not configured (no SLACK_BOT_TOKEN); skipping")
        return False
    if not settings.socket_mode and not settings.signing_secret:
        raise ValueError(
            "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
        )
    bolt = build_bolt(settings, app)
    app[BOLT] = bolt
    app[MESSENGERS]["slack"] = SlackMessenger(bolt.client)
    app.cleanup_ctx.append(_shared_http_session(bolt.client))
    if settings.socket_mode:
        app.cleanup_ctx.append(_socket_mode(bolt, settings.app_token))
        log.info("Slack: Socket Mode (no Slack URL is served over HTTP)")
        return True

    async def slack_events(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.json_response({"error": "payload too large"}, status=413)
        raw = await request.text()
        try:
            bolt_request = await to_bolt_request(request)
            parsed = well_formed(bolt_request.body)
        except Exception:  # not JSON, or JSON Bolt's request parsing cannot take
            parsed = False
        if not parsed:
            # Authenticate before judging: unsigned junk is a 401 like any unsigned request;
            # signed but malformed is a 400, kept away from Bolt's parsers (which would 500).
            if not verifier.is_valid_request(raw, dict(request.headers)):
                return web.json_response({"error": "invalid signature"}, status=401)
            return web.json_response({"error": "malformed Slack payload"}, status=400)
        try:
            async with gate.acknowledging():
                response = await bolt.async_dispatch(bolt_request)
        except Exception:
            log.exception("could not process a Slack request")
            return web.json_response({"error": "malformed Slack payload"}, status=400)
        return await to_aiohttp_response(response)

    verifier = SignatureVerifier(settings.signing_secret)
    gate = app[ANSWER_GATE]
    app.router.add_post("/slack/events", slack_events)
    log.info("Slack: HTTP mode at POST /slack/events")
    return True


def _shared_http_session(
    client: AsyncWebClient,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """One HTTP session (a pool of kept-alive connections) for every Web API call, from
    startup to shutdown. Without it slack_sdk opens a session, and a TCP connection, for each
    call and closes it after: under load that was the larger part of posting an answer."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            client.session = session
            yield
            client.session = None

    return context


def _socket_mode(bolt: AsyncApp, app_token: str):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(bolt, app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        yield
        await handler.close_async()  # type: ignore[no-untyped-call]

    return context
