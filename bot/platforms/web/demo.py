"""Demo mode: enough of a library team for the web chat to run the whole request story alone."""

from __future__ import annotations

import logging

from bot.config.web import WebSettings
from bot.db.session import Database
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService, SpecialistView
from bot.errors import UserFacingError

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
    retired = await _demo_specialist(routing, settings)
    if retired is not None and not retired.is_active:
        # Demo mode switched back on: bring the retired demo specialist back, and its route.
        await routing.activate_specialist(retired.id)
        if await routing.route_for("web", settings.conversation) is None:
            await _route_to(routing, settings, retired.id)
        log.warning("demo mode: reactivated the demo specialist (web:%s)", settings.specialist_user)
        return True
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
    await _route_to(routing, settings, specialist.id)
    log.info(
        "demo mode: created %s (web:%s) and routed web:%s to them",
        DEMO_SPECIALIST_NAME,
        settings.specialist_user,
        settings.conversation,
    )
    return True


async def _route_to(routing: RoutingService, settings: WebSettings, specialist_id: int) -> None:
    # New cards, their updates and requesters' replies go to the specialist view's feed.
    route = await routing.add_route(
        "web",
        settings.conversation,
        DEMO_SPECIALTY,
        notify_platform="web",
        notify_channel_id=settings.specialist_user,
    )
    await routing.link(route.id, specialist_id)


async def _demo_specialist(routing: RoutingService, settings: WebSettings) -> SpecialistView | None:
    """The specialist demo mode created (its name and web identity), if there is one."""
    found = await routing.specialist_for("web", settings.specialist_user)
    if found is None or found.display_name != DEMO_SPECIALIST_NAME:
        return None
    return found


async def retire_demo_team(db: Database, settings: WebSettings) -> bool:
    """Outside demo mode, the demo specialist must not stay a specialist: anyone who could
    speak as web:specialist would see the queue and work requests. Deactivate it and remove
    the route demo mode made (a route an admin set up is left alone). Returns whether
    anything was retired."""
    if settings.demo:
        return False
    routing = RoutingService(db)
    specialist = await _demo_specialist(routing, settings)
    if specialist is None or not specialist.is_active:
        return False
    await routing.deactivate_specialist(specialist.id)
    route = await routing.route_for("web", settings.conversation)
    if (
        route is not None
        and route.specialty == DEMO_SPECIALTY
        and route.notify_platform == "web"
        and route.notify_channel_id == settings.specialist_user
    ):
        await routing.remove_route("web", settings.conversation)
    log.warning(
        "demo mode is off: deactivated the demo specialist (web:%s) and its route",
        settings.specialist_user,
    )
    return True
