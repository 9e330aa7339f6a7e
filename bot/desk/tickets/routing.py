"""Who looks after which channel: routes, specialists, and choosing an assignee.

A route maps a chat channel or team to a specialty and the specialists who serve it. When a
request arrives from a routed channel, `choose_assignee` suggests the active specialist with
the least open work there; an unrouted channel, or one whose specialists are all inactive,
goes to the general queue (None).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, utc_now
from bot.db.models import Route, Specialist, SpecialistIdentity, Ticket, route_specialists
from bot.db.session import Database
from bot.desk.new_rows import add_new
from bot.desk.tickets.calendar import OFFICE_HOURS, WorkingHours
from bot.desk.tickets.errors import SpecialistNotFound
from bot.desk.tickets.lifecycle import OPEN_STATUSES
from bot.errors import UserFacingError

__all__ = [
    "Identity",
    "NewSpecialist",
    "RouteView",
    "RoutingService",
    "SpecialistView",
]


@dataclass(frozen=True)
class Identity:
    """A specialist's user id on one platform."""

    platform: str
    user_id: str


@dataclass(frozen=True)
class NewSpecialist:
    display_name: str
    email: str | None = None
    is_lead: bool = False
    hours: WorkingHours = OFFICE_HOURS
    identities: tuple[Identity, ...] = ()


@dataclass(frozen=True)
class SpecialistView:
    id: int
    display_name: str
    email: str | None
    is_lead: bool
    is_active: bool
    hours: WorkingHours
    identities: tuple[Identity, ...]

    @classmethod
    def of(cls, row: Specialist) -> SpecialistView:
        return cls(
            id=row.id,
            display_name=row.display_name,
            email=row.email,
            is_lead=row.is_lead,
            is_active=row.is_active,
            hours=WorkingHours(row.work_start, row.work_end, frozenset(row.work_days)),
            identities=tuple(
                Identity(identity.platform, identity.user_id)
                for identity in sorted(row.identities, key=lambda i: (i.platform, i.user_id))
            ),
        )


@dataclass(frozen=True)
class RouteView:
    id: int
    platform: str
    channel_id: str
    specialty: str
    notify_platform: str | None
    notify_channel_id: str | None
    specialist_ids: tuple[int, ...]


class RoutingService:
    """Administer routes and specialists, and pick who should take a new request."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    # ---- routes ---------------------------------------------------------------------------

    async def add_route(
        self,
        platform: str,
        channel_id: str,
        specialty: str,
        *,
        notify_platform: str | None = None,
        notify_channel_id: str | None = None,
    ) -> RouteView:
        """Route a channel to a specialty; routing an already-routed channel updates it."""
        if (notify_platform is None) != (notify_channel_id is None):
            raise ValueError("give both notify_platform and notify_channel_id, or neither")
        async with self._db.transaction() as session:
            route = await _route_row(session, platform, channel_id)
            if route is None:
                route = Route(platform=platform, channel_id=channel_id, created_at=self._clock())
                session.add(route)
            route.specialty = specialty
            route.notify_platform = notify_platform
            route.notify_channel_id = notify_channel_id
            await session.flush()
            return await _route_view(session, route)

    async def remove_route(self, platform: str, channel_id: str) -> bool:
        """Stop routing a channel (its tickets stay, in the general queue); False if unknown."""
        async with self._db.transaction() as session:
            route = await _route_row(session, platform, channel_id)
            if route is None:
                return False
            await session.delete(route)
            return True

    async def route_for(self, platform: str, channel_id: str) -> RouteView | None:
        async with self._db.transaction() as session:
            route = await _route_row(session, platform, channel_id)
            return None if route is None else await _route_view(session, route)

    async def list_routes(self) -> tuple[RouteView, ...]:
        async with self._db.transaction() as session:
            routes = (
                await session.scalars(select(Route).order_by(Route.platform, Route.channel_id))
            ).all()
            return tuple([await _route_view(session, route) for route in routes])

    async def link(self, route_id: int, specialist_id: int) -> None:
        """Make a specialist serve a route (doing it twice is harmless)."""
        async with self._db.transaction() as session:
            if await session.get(Specialist, specialist_id) is None:
                raise SpecialistNotFound(specialist_id)
            if await session.get(Route, route_id) is None:
                raise UserFacingError(f"Route {route_id} does not exist.")
            insert = (
                postgresql.insert(route_specialists)
                if self._db.dialect == "postgresql"
                else sqlite.insert(route_specialists)
            )
            await session.execute(
                insert.values(
                    route_id=route_id, specialist_id=specialist_id
                ).on_conflict_do_nothing()
            )

    async def unlink(self, route_id: int, specialist_id: int) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                delete(route_specialists).where(
                    route_specialists.c.route_id == route_id,
                    route_specialists.c.specialist_id == specialist_id,
                )
            )

    # ---- specialists ----------------------------------------------------------------------

    async def add_specialist(self, new: NewSpecialist) -> SpecialistView:
        specialist = Specialist(
            display_name=new.display_name,
            email=new.email,
            is_lead=new.is_lead,
            is_active=True,
            work_start=new.hours.start,
            work_end=new.hours.end,
            work_days=sorted(new.hours.weekdays),
            created_at=self._clock(),
            identities=[
                SpecialistIdentity(platform=identity.platform, user_id=identity.user_id)
                for identity in new.identities
            ],
        )
        exists = "One of those platform accounts already belongs to another specialist."
        return SpecialistView.of(await add_new(self._db, specialist, exists))

    async def list_specialists(
        self, *, include_inactive: bool = False
    ) -> tuple[SpecialistView, ...]:
        query = select(Specialist).order_by(Specialist.display_name, Specialist.id)
        if not include_inactive:
            query = query.where(Specialist.is_active.is_(True))
        async with self._db.transaction() as session:
            return tuple(SpecialistView.of(row) for row in await session.scalars(query))

    async def deactivate_specialist(self, specialist_id: int) -> SpecialistView:
        """Stop routing new work to someone; their open tickets stay theirs until reassigned."""
        return await self._set_active(specialist_id, False)

    async def activate_specialist(self, specialist_id: int) -> SpecialistView:
        """Route new work to someone again after `deactivate_specialist`."""
        return await self._set_active(specialist_id, True)

    async def _set_active(self, specialist_id: int, active: bool) -> SpecialistView:
        async with self._db.transaction() as session:
            await session.execute(
                update(Specialist).where(Specialist.id == specialist_id).values(is_active=active)
            )
            specialist = await session.get(Specialist, specialist_id, populate_existing=True)
            if specialist is None:
                raise SpecialistNotFound(specialist_id)
            return SpecialistView.of(specialist)

    async def specialist_for(self, platform: str, user_id: str) -> SpecialistView | None:
        """The specialist behind a platform account, or None if it is not a specialist's."""
        async with self._db.transaction() as session:
            specialist = await session.scalar(
                select(Specialist)
                .join(SpecialistIdentity)
                .where(
                    SpecialistIdentity.platform == platform, SpecialistIdentity.user_id == user_id
                )
            )
            return None if specialist is None else SpecialistView.of(specialist)

    async def link_by_email(self, email: str, platform: str, user_id: str) -> str | None:
        """The user id on `platform` of the active specialist with this email (any case),
        linking `user_id` to them first if they have none there yet; None if the email is no
        active specialist's, or `user_id` is already another specialist's. How a person who
        signed in with their work account (bot/platforms/web/sso/) becomes the specialist they are on
        Slack and Teams."""
        email = email.strip().lower()
        for _ in range(2):  # once more if a parallel sign-in linked it first
            try:
                async with self._db.transaction() as session:
                    specialist = await session.scalar(
                        select(Specialist)
                        .where(
                            func.lower(Specialist.email) == email, Specialist.is_active.is_(True)
                        )
                        .order_by(Specialist.id)
                        .limit(1)
                    )
                    if specialist is None:
                        return None
                    for known in specialist.identities:
                        if known.platform == platform:
                            return known.user_id
                    session.add(
                        SpecialistIdentity(
                            specialist_id=specialist.id, platform=platform, user_id=user_id
                        )
                    )
                    await session.flush()
                    return user_id
            except IntegrityError:
                continue
        return None

    async def choose_assignee(self, platform: str, channel_id: str) -> SpecialistView | None:
        """The channel's active specialist with the fewest open tickets; None = general queue.

        Ties go to the longest-serving specialist (lowest id), so the choice is repeatable.
        """
        open_count = func.count(Ticket.id)
        query = (
            select(Specialist, open_count)
            .join(route_specialists, route_specialists.c.specialist_id == Specialist.id)
            .join(Route, Route.id == route_specialists.c.route_id)
            .outerjoin(
                Ticket,
                (Ticket.assignee_id == Specialist.id)
                & Ticket.status.in_([status.value for status in OPEN_STATUSES]),
            )
            .where(
                Route.platform == platform,
                Route.channel_id == channel_id,
                Specialist.is_active.is_(True),
            )
            .group_by(Specialist.id)
            .order_by(open_count, Specialist.id)
            .limit(1)
        )
        async with self._db.transaction() as session:
            row = (await session.execute(query)).first()
            return None if row is None else SpecialistView.of(row[0])


async def _route_row(session: AsyncSession, platform: str, channel_id: str) -> Route | None:
    return await session.scalar(
        select(Route).where(Route.platform == platform, Route.channel_id == channel_id)
    )


async def _route_view(session: AsyncSession, route: Route) -> RouteView:
    specialist_ids = (
        await session.scalars(
            select(route_specialists.c.specialist_id)
            .where(route_specialists.c.route_id == route.id)
            .order_by(route_specialists.c.specialist_id)
        )
    ).all()
    return RouteView(
        id=route.id,
        platform=route.platform,
        channel_id=route.channel_id,
        specialty=route.specialty,
        notify_platform=route.notify_platform,
        notify_channel_id=route.notify_channel_id,
        specialist_ids=tuple(specialist_ids),
    )
