"""Evidence Desk in Microsoft Teams, through the Bot Framework (botbuilder's CloudAdapter).

`setup_teams(app)` mounts POST /api/messages, the URL an Azure Bot's messaging endpoint points
at, and registers the Teams messenger for the outbox. Settings are the standard Bot Framework
variables (`MicrosoftAppId`, `MicrosoftAppPassword`, `MicrosoftAppType`,
`MicrosoftAppTenantId`; see bot/teams/config.py and docs/teams.md).

With no `MicrosoftAppId` the bot runs in local mode, for the Bot Framework Emulator: no token
is checked or sent, so anyone who can reach the URL could speak as any Teams user. That is
logged as a warning at start, and in that mode only requests from this machine (loopback) are
accepted.

Every request is checked before the SDK sees it: a missing or invalid token gets 401 (with an
app id set), a body that is not JSON or not a Bot Framework activity 400, each with a JSON
error, never a 500.

Every botbuilder import lives in this package, so moving to the Microsoft 365 Agents SDK
touches nothing outside it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper  # type: ignore[import-untyped]
from botbuilder.integration.aiohttp import (  # type: ignore[import-untyped]
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity  # type: ignore[import-untyped]

from bot.teams.bot import EvidenceDeskBot
from bot.teams.config import TeamsSettings
from bot.teams.conversations import ConversationStore
from bot.teams.messenger import TeamsMessenger
from handlers.desk import GENERIC_APOLOGY

log = logging.getLogger(__name__)

MESSAGES_PATH: Final = "/api/messages"
PLATFORM: Final = "teams"

__all__ = ["MESSAGES_PATH", "TEAMS", "TeamsRuntime", "TeamsSettings", "setup_teams"]


@dataclass(frozen=True)
class TeamsRuntime:
    """What setup_teams built, kept on the app for tests and diagnostics."""

    settings: TeamsSettings
    adapter: Any  # botbuilder CloudAdapter
    bot: EvidenceDeskBot
    messenger: TeamsMessenger


TEAMS = web.AppKey("teams", TeamsRuntime)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def activity_problem(body: Any) -> str | None:
    """Why a parsed JSON body is not an activity we can handle; None if it is one."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (a Bot Framework activity)"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "not a Bot Framework activity: 'type' is missing"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return "not a Bot Framework activity: 'conversation.id' is missing"
    if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"]:
        return "not a Bot Framework activity: 'serviceUrl' is missing"
    for name in ("from", "recipient"):
        if name in body and not isinstance(body[name], dict):
            return f"not a Bot Framework activity: '{name}' must be an object"
    return None


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
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, f"malformed JSON: {exc}")
        problem = activity_problem(body)
        if problem is not None:
            return _error(400, problem)
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

        try:
            invoke_response = await adapter.process_activity(auth, activity, runtime.bot.on_turn)
        except Exception:
            log.exception("Teams activity %s could not be processed", activity.id)
            return _error(500, "the bot failed to process this activity")
        if invoke_response:
            return web.json_response(
                serializer_helper(invoke_response.body), status=invoke_response.status
            )
        return web.Response(status=200)

    return messages


async def _on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    log.error("Teams turn failed", exc_info=error)
    try:
        await turn_context.send_activity(GENERIC_APOLOGY)
    except Exception:
        log.warning("could not send the apology to Teams either", exc_info=True)


def setup_teams(app: web.Application, settings: TeamsSettings | None = None) -> None:
    """Mount POST /api/messages and register the Teams messenger (settings from the
    environment unless given). A bad setting raises pydantic's ValidationError naming it."""
    # Imported here, not at module level, so bot.app may import this package at its top.
    from bot.app import DATABASE, DESK, MESSENGERS, WORKER

    if TEAMS in app:
        return
    settings = settings or TeamsSettings()
    if not settings.authenticated:
        log.warning(
            "TEAMS AUTHENTICATION IS OFF: MicrosoftAppId is not set, so %s accepts activities "
            "without a Bot Framework token (local mode, for the Bot Framework Emulator; only "
            "requests from this machine are accepted). Set MicrosoftAppId and "
            "MicrosoftAppPassword before connecting Teams.",
            MESSAGES_PATH,
        )
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(settings.sdk_configuration()))
    adapter.on_turn_error = _on_turn_error
    database = app[DATABASE]
    worker = app[WORKER]
    bot = EvidenceDeskBot(app[DESK], ConversationStore(database), worker.kick)
    messenger = TeamsMessenger(adapter, settings.app_id, database)
    runtime = TeamsRuntime(settings, adapter, bot, messenger)
    app[TEAMS] = runtime
    app[MESSENGERS][PLATFORM] = messenger
    app.router.add_post(MESSAGES_PATH, _handler(runtime))
