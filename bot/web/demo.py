"""Demo mode: enough of a library team for the web chat to run the whole request story alone."""

from __future__ import annotations

import logging

from bot.db.session import Database
from bot.errors import UserFacingError
from bot.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.web.config import WebSettings

log = logging.getLogger(__name__)

DEMO_SPECIALIST_NAME = "Sam (demo specialist)"
DEMO_SPECIALTY = "Web chat demo"


async def ensure_demo_team(db: Database, settings: WebSettings) -> bool:
    """On a database with no specialists and no route for the web chat, create a demo
    specialist (web identity `settings.specialist_user`) and route the chat to them, so a
    request made in the chat reaches the specialist view. Returns whether it created them.

    Only in demo mode; anything already configured is left alone, so a real team's set-up is
    never touched.
    """
    if not settings.demo:
        return False
    routing = RoutingService(db)
    if await routing.list_specialists(include_inactive=True):
        return False
    if await routing.route_for("web", settings.conversation) is not None:
        return False
    try:
        specialist = await routing.add_specialist(
            NewSpecialist(
                DEMO_SPECIALIST_NAME,
                identities=(Identity("web", settings.specialist_user),),
            )
        )
    except UserFacingError:  # another worker created it first
        return False
    # New cards, their updates and requesters' replies go to the specialist view's feed.
    route = await routing.add_route(
        "web",
        settings.conversation,
        DEMO_SPECIALTY,
        notify_platform="web",
        notify_channel_id=settings.specialist_user,
    )
    await routing.link(route.id, specialist.id)
    log.info(
        "demo mode: created %s (web:%s) and routed web:%s to them",
        DEMO_SPECIALIST_NAME,
        settings.specialist_user,
        settings.conversation,
    )
    return True
