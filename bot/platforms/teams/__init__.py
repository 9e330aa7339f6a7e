"""Evidence Desk in Microsoft Teams, through the Bot Framework (botbuilder's CloudAdapter).

`setup_teams(app)` mounts POST /api/messages, the URL an Azure Bot's messaging endpoint points
at, and registers the Teams messenger for the outbox. Settings are the standard Bot Framework
variables (`MicrosoftAppId`, `MicrosoftAppPassword`, `MicrosoftAppType`,
`MicrosoftAppTenantId`; see bot/config/teams.py and docs/teams.md).

With no `MicrosoftAppId` the bot runs in local mode, for the Bot Framework Emulator: no token
is checked or sent, so anyone who can reach the URL could speak as any Teams user, and an
activity's `serviceUrl` says where the bot posts its replies. So local mode runs only when the
server listens on loopback (asked for on any other address, with
EVIDENCE_DESK_TEAMS_LOCAL_MODE=true, the server refuses to start; left to its default, Teams is
simply not mounted there), accepts requests only from this machine, and refuses an activity
whose `serviceUrl` is not on this machine. It is logged as a warning at start.

Every request is checked before the SDK sees it: a missing or invalid token gets 401 (with an
app id set), a body that is not JSON or not a Bot Framework activity 400, each with a JSON
error, never a 500; so is an invoke the bot does not handle (the SDK's 501) or a malformed one.

An activity the bot acts on (a message, a card submission, an invoke, a conversation update)
needs the database: to drop a redelivery, to remember where to write later, to file requests.
It is checked first (`Database.ping`, after authentication); if the database cannot be
reached the activity gets 503 with Retry-After and a JSON error, and the Bot Framework
delivers it again later, rather than 200 for an activity the bot could not record. Should
the database go while a turn is under way, the turn carries on as far as it can (answers
need no database) and the person is told if it fails.

Every botbuilder import lives in this package, so moving to the Microsoft 365 Agents SDK
touches nothing outside it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper  # type: ignore[import-untyped]
from botbuilder.integration.aiohttp import CloudAdapter  # type: ignore[import-untyped]
from botbuilder.schema import Activity, ActivityTypes  # type: ignore[import-untyped]

from bot.config.teams import TeamsSettings
from bot.db.errors import is_database_unavailable, unavailable_body, unavailable_headers
from bot.db.session import Database
from bot.delivery.conversation_refs import ConversationStore
from bot.keys import DATABASE, DESK, INBOX, MESSENGERS, SETTINGS
from bot.messages import GENERIC_APOLOGY
from bot.network import is_loopback_host, is_loopback_url
from bot.platforms.teams.bot import EvidenceDeskBot
from bot.platforms.teams.clients import ReusedClientsAuthentication
from bot.platforms.teams.messenger import TeamsMessenger

log = logging.getLogger(__name__)

MESSAGES_PATH: Final = "/api/messages"
MAX_BODY_BYTES: Final = 1024 * 1024
PLATFORM: Final = "teams"

__all__ = ["MESSAGES_PATH", "TEAMS", "TeamsRuntime", "TeamsSettings", "setup_teams"]

# Activities the bot acts on, which are refused with 503 while the database is unreachable.
NEEDS_DATABASE: Final = frozenset(
    {ActivityTypes.message, ActivityTypes.invoke, ActivityTypes.conversation_update}
)


@dataclass(frozen=True)
class TeamsRuntime:
    """What setup_teams built, kept on the app for tests and diagnostics."""

    settings: TeamsSettings
    adapter: Any  # botbuilder CloudAdapter
    bot: EvidenceDeskBot
    messenger: TeamsMessenger
    database: Database


TEAMS = web.AppKey("teams", TeamsRuntime)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _unavailable() -> web.Response:
    return web.json_response(unavailable_body(), status=503, headers=unavailable_headers())


def activity_problem(body: Any) -> str | None:
    """Why a parsed JSON body is not an activity we can handle; None if it is one."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (a Bot Framework activity)"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "not a Bot Framework activity: 'type' is missing"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return "not a Bot Framework activity: 'conversation.id' is missing"
    if not _plain(conversation["id"]):
        # The SDK sends the id back in a header and a URL: the bot could never reply to it.
        return "not a Bot Framework activity: 'conversation.id' must be printable ASCII"
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url:
        return "not a Bot Framework activity: 'serviceUrl' is missing"
    if not (_plain(service_url) and service_url.lower().startswith(("https://", "http://"))):
        return "not a Bot Framework activity: 'serviceUrl' must be an http(s) URL"
    for name in ("from", "recipient"):
        if name in body and not isinstance(body[name], dict):
            return f"not a Bot Framework activity: '{name}' must be an object"
    return None


def _plain(value: str) -> bool:
    """Non-empty printable ASCII with no space at either end: what Bot Framework ids and
    URLs are, and what can travel in an HTTP header."""
    return bool(value) and value.isascii() and value.isprintable() and value == value.strip()


def _is_loopback(request: web.Request) -> bool:
    if request.remote is None:
        return True  # a Unix socket
    try:
        return ipaddress.ip_address(request.remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _handler(runtime: TeamsRuntime) -> Callable[[web.Request], Awaitable[web.Response]]:
    adapter = runtime.adapter
    authenticated = runtime.settings.authenticated

    async def messages(request: web.Request) -> web.Response:
        if not authenticated and not _is_loopback(request):
            return _error(
                403,
                "Teams authentication is off (MicrosoftAppId is not set), so only requests from "
                "this machine are accepted. Set MicrosoftAppId and MicrosoftAppPassword.",
            )
        if authenticated and not request.headers.get("Authorization"):
            # No token, no look at the body: unauthenticated junk is a 401 like any other.
            return _error(401, "a valid Bot Framework token is required")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _error(413, "the activity is too large")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "the activity is too large")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, f"malformed JSON: {exc}")
        except RecursionError:
            return _error(400, "malformed JSON: nested too deeply")
        problem = activity_problem(body)
        if problem is not None:
            return _error(400, problem)
        if not authenticated and not is_loopback_url(body["serviceUrl"]):
            # Unauthenticated, the bot would post its reply wherever the activity said.
            return _error(
                403,
                "Teams authentication is off (MicrosoftAppId is not set), so the bot replies "
                "only to a Bot Framework Emulator on this machine: serviceUrl must be loopback.",
            )
        try:
            activity = Activity().deserialize(body)
        except Exception as exc:
            return _error(400, f"not a valid Bot Framework activity: {exc.__class__.__name__}")

        try:
            auth = await adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except PermissionError as exc:  # (an OSError, so caught first)
            log.info("Teams request refused: %s", exc)
            return _error(401, "a valid Bot Framework token is required")
        except OSError:
            # requests' errors are OSErrors too: the signing keys could not be fetched.
            log.warning("could not fetch the Bot Framework signing keys", exc_info=True)
            return _error(503, "could not check the token right now; try again")
        except Exception as exc:
            log.info("Teams request refused: %s", exc)
            return _error(401, "a valid Bot Framework token is required")

        if activity.type in NEEDS_DATABASE:
            try:
                await runtime.database.ping()
            except Exception as exc:
                if not is_database_unavailable(exc):
                    log.exception("could not check the database for Teams activity %s", activity.id)
                    return _error(500, "the bot failed to process this activity")
                log.warning("database unavailable; Teams activity refused with 503: %s", exc)
                return _unavailable()
        try:
            invoke_response = await adapter.process_activity(auth, activity, runtime.bot.on_turn)
        except Exception as exc:
            if is_database_unavailable(exc):
                log.warning("database unavailable; Teams activity refused with 503: %s", exc)
                return _unavailable()
            log.exception("Teams activity %s could not be processed", activity.id)
            return _error(500, "the bot failed to process this activity")
        if invoke_response:
            return _invoke_answer(invoke_response)
        return web.Response(status=200)

    return messages


def _invoke_answer(invoke_response: Any) -> web.Response:
    """An invoke's answer as JSON. The SDK answers an invoke the bot does not handle with 501
    and no body, and a malformed Adaptive Card action with an error it cannot serialise;
    both are the sender's problem, so they become 400s that say so."""
    status = int(invoke_response.status or 200)
    body = invoke_response.body
    if status == HTTPStatus.NOT_IMPLEMENTED:
        return _error(400, "this bot does not handle this invoke activity")
    try:
        payload = serializer_helper(body)
    except Exception:
        problem = getattr(body, "value", None)
        detail = str(problem.args[-1]) if isinstance(problem, Exception) and problem.args else ""
        log.info("Teams invoke refused (%s): %s", status, detail or "unserialisable answer")
        message = f"invalid invoke activity: {detail}" if detail else "invalid invoke activity"
        return _error(status if 400 <= status < 500 else 400, message)
    if status >= 400 and payload is None:
        return _error(status if status < 500 else 400, "invalid invoke activity")
    return web.json_response(payload, status=status)


async def _on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    if is_database_unavailable(error):
        # Out of the SDK, to the request handler: a 503, so the Bot Framework sends the
        # activity again, instead of a 200 for an activity that was never journalled.
        raise error
    log.error("Teams turn failed", exc_info=error)
    try:
        await turn_context.send_activity(GENERIC_APOLOGY)
    except Exception:
        log.warning("could not send the apology to Teams either", exc_info=True)


def _local_mode_allowed(settings: TeamsSettings, host: str) -> bool:
    """Whether to mount local (unauthenticated) mode for a server listening on `host`.
    Raises ValueError, naming the settings, when it was asked for on a non-loopback host."""
    if is_loopback_host(host):
        return settings.local_mode is not False
    if settings.local_mode:
        raise ValueError(
            f"EVIDENCE_DESK_TEAMS_LOCAL_MODE is true but EVIDENCE_DESK_HOST is {host!r}: Teams "
            "local mode checks no token, so it runs only on a loopback host (127.0.0.1). Set "
            "MicrosoftAppId and MicrosoftAppPassword to connect Teams, or listen on 127.0.0.1."
        )
    log.info(
        "Teams is not connected: MicrosoftAppId is not set and EVIDENCE_DESK_HOST %r is not "
        "loopback, so local (Emulator) mode is off",
        host,
    )
    return False


def setup_teams(app: web.Application, settings: TeamsSettings | None = None) -> None:
    """Mount POST /api/messages and register the Teams messenger (settings from
    `Settings.teams` unless given). A bad setting raises pydantic's ValidationError naming it."""
    if TEAMS in app:
        return
    settings = settings or app[SETTINGS].teams
    if not settings.authenticated and not _local_mode_allowed(settings, app[SETTINGS].host):
        return
    if not settings.authenticated:
        log.warning(
            "TEAMS AUTHENTICATION IS OFF: MicrosoftAppId is not set, so %s accepts activities "
            "without a Bot Framework token (local mode, for the Bot Framework Emulator; only "
            "requests from this machine are accepted). Set MicrosoftAppId and "
            "MicrosoftAppPassword before connecting Teams.",
            MESSAGES_PATH,
        )
    adapter = CloudAdapter(ReusedClientsAuthentication(settings.sdk_configuration()))
    adapter.on_turn_error = _on_turn_error
    database = app[DATABASE]
    conversations = ConversationStore(database, PLATFORM)
    bot = EvidenceDeskBot(app[INBOX], conversations, app[DESK].answerer.scanner)
    messenger = TeamsMessenger(adapter, settings.app_id, conversations)
    runtime = TeamsRuntime(settings, adapter, bot, messenger, database)
    app[TEAMS] = runtime
    app[MESSENGERS][PLATFORM] = messenger
    app.router.add_post(MESSAGES_PATH, _handler(runtime))
