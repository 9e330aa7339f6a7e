"""Routes and specialists: who takes requests from which channel (bot.desk.tickets.routing)."""

from __future__ import annotations

from aiohttp import web

from bot.desk.accounts import Session
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService
from bot.errors import UserFacingError
from bot.keys import DATABASE
from bot.platforms.web.admin.common import form_data, page, protected

PLATFORMS = ("slack", "teams", "web")


def _identities(text: str) -> tuple[Identity, ...]:
    result = []
    for line in text.replace(",", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        platform, sep, user_id = line.partition(":")
        if not sep or platform not in PLATFORMS or not user_id.strip():
            raise UserFacingError(
                f"“{line}” should be PLATFORM:USER_ID, with PLATFORM one of slack, teams, web."
            )
        result.append(Identity(platform, user_id.strip()))
    return tuple(result)


async def _team_page(
    request: web.Request, session: Session, error: str | None = None, status: int = 200
) -> web.Response:
    routing = RoutingService(request.app[DATABASE])
    specialists = await routing.list_specialists(include_inactive=True)
    return page(
        request,
        session,
        "admin/team.html",
        status=status,
        specialists=specialists,
        names={s.id: s.display_name for s in specialists},
        routes=await routing.list_routes(),
        platforms=PLATFORMS,
        error=error,
        done=request.query.get("done"),
    )


async def team(request: web.Request, session: Session) -> web.Response:
    return await _team_page(request, session)


async def add_specialist(request: web.Request, session: Session) -> web.Response:
    data = await form_data(request)
    name = data.get("name", "").strip()
    try:
        if not name:
            raise UserFacingError("Give the specialist's name.")
        await RoutingService(request.app[DATABASE]).add_specialist(
            NewSpecialist(
                display_name=name[:200],
                email=data.get("email", "").strip()[:320] or None,
                is_lead=data.get("lead") == "yes",
                identities=_identities(data.get("identities", "")),
            )
        )
    except UserFacingError as exc:
        return await _team_page(request, session, str(exc), 422)
    raise web.HTTPSeeOther("/admin/team?done=specialist")


async def deactivate_specialist(request: web.Request, session: Session) -> web.Response:
    data = await form_data(request)
    try:
        await RoutingService(request.app[DATABASE]).deactivate_specialist(int(data.get("id", "")))
    except (ValueError, UserFacingError) as exc:
        return await _team_page(request, session, str(exc), 422)
    raise web.HTTPSeeOther("/admin/team?done=deactivated")


async def save_route(request: web.Request, session: Session) -> web.Response:
    data = await form_data(request)
    posted = await request.post()
    routing = RoutingService(request.app[DATABASE])
    platform = data.get("platform", "")
    channel = data.get("channel", "").strip()
    specialty = data.get("specialty", "").strip()
    notify = data.get("notify", "").strip()
    try:
        if platform not in PLATFORMS or not channel or not specialty:
            raise UserFacingError("Choose a platform and give the channel id and the specialty.")
        notify_platform = notify_channel = None
        if notify:
            notify_platform, sep, notify_channel = notify.partition(":")
            if not sep or notify_platform not in PLATFORMS or not notify_channel:
                raise UserFacingError("Notify should be PLATFORM:CHANNEL_ID, e.g. slack:C0LIBRARY.")
        route = await routing.add_route(
            platform,
            channel[:255],
            specialty[:200],
            notify_platform=notify_platform,
            notify_channel_id=notify_channel,
        )
        wanted = {int(v) for v in posted.getall("specialist", []) if isinstance(v, str)}
        for specialist_id in set(route.specialist_ids) - wanted:
            await routing.unlink(route.id, specialist_id)
        for specialist_id in wanted - set(route.specialist_ids):
            await routing.link(route.id, specialist_id)
    except (ValueError, UserFacingError) as exc:
        return await _team_page(request, session, str(exc), 422)
    raise web.HTTPSeeOther("/admin/team?done=route")


async def remove_route(request: web.Request, session: Session) -> web.Response:
    data = await form_data(request)
    await RoutingService(request.app[DATABASE]).remove_route(
        data.get("platform", ""), data.get("channel", "")
    )
    raise web.HTTPSeeOther("/admin/team?done=removed")


def add_team_routes(app: web.Application) -> None:
    app.router.add_get("/admin/team", protected(team))
    app.router.add_post("/admin/team/specialists", protected(add_specialist))
    app.router.add_post("/admin/team/specialists/deactivate", protected(deactivate_specialist))
    app.router.add_post("/admin/team/routes", protected(save_route))
    app.router.add_post("/admin/team/routes/remove", protected(remove_route))
