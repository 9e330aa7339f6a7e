"""Routes, specialists, and who gets a new request: the active specialist with least open work."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import time
from typing import Any

import pytest

from bot.desk.tickets.calendar import WorkingHours
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Origin, TicketDraft
from bot.errors import UserFacingError

AddSpecialists = Callable[..., Coroutine[Any, Any, list[SpecialistView]]]
CARDIO = Origin("slack", "C_CARDIO")


async def _cardiology(routing: RoutingService, specialists: list[SpecialistView]) -> int:
    route = await routing.add_route("slack", CARDIO.channel_id, "Cardiology")
    for specialist in specialists:
        await routing.link(route.id, specialist.id)
    return route.id


async def test_choose_assignee_picks_the_specialist_with_least_open_work(
    routing: RoutingService,
    service: TicketService,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
) -> None:
    busy, idle = await add_specialists(2)
    await _cardiology(routing, [busy, idle])
    for _ in range(2):
        ref = (await service.create(draft(origin=CARDIO))).reference
        await service.claim(ref, busy.id)
    chosen = await routing.choose_assignee("slack", CARDIO.channel_id)
    assert chosen is not None and chosen.id == idle.id


async def test_finished_tickets_do_not_count_as_open_work(
    routing: RoutingService,
    service: TicketService,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
) -> None:
    first, second = await add_specialists(2)
    await _cardiology(routing, [first, second])
    ref = (await service.create(draft())).reference
    await service.claim(ref, second.id)
    await service.complete(ref, second.id, "done", [])
    open_ref = (await service.create(draft())).reference
    await service.claim(open_ref, first.id)
    chosen = await routing.choose_assignee("slack", CARDIO.channel_id)
    assert chosen is not None and chosen.id == second.id


async def test_deactivated_specialists_are_skipped(
    routing: RoutingService, add_specialists: AddSpecialists
) -> None:
    leaving, staying = await add_specialists(2)
    await _cardiology(routing, [leaving, staying])
    await routing.deactivate_specialist(leaving.id)
    chosen = await routing.choose_assignee("slack", CARDIO.channel_id)
    assert chosen is not None and chosen.id == staying.id


async def test_channel_with_no_active_specialist_goes_to_the_general_queue(
    routing: RoutingService, add_specialists: AddSpecialists
) -> None:
    (only,) = await add_specialists(1)
    await _cardiology(routing, [only])
    await routing.deactivate_specialist(only.id)
    assert await routing.choose_assignee("slack", CARDIO.channel_id) is None


async def test_unrouted_channel_goes_to_the_general_queue(
    routing: RoutingService, add_specialists: AddSpecialists
) -> None:
    await add_specialists(1)
    assert await routing.choose_assignee("slack", "C_ELSEWHERE") is None


async def test_specialist_keeps_hours_and_identities(routing: RoutingService) -> None:
    made = await routing.add_specialist(
        NewSpecialist(
            "Ann Librarian",
            email="ann@nhs.net",
            is_lead=True,
            hours=WorkingHours(time(8, 30), time(16, 0), frozenset({0, 1, 2})),
            identities=(Identity("slack", "U_ANN"), Identity("teams", "29:ann")),
        )
    )
    found = await routing.specialist_for("teams", "29:ann")
    assert found == made
    assert found.hours.weekdays == frozenset({0, 1, 2})
    assert found.identities == (Identity("slack", "U_ANN"), Identity("teams", "29:ann"))


async def test_a_platform_account_belongs_to_one_specialist_only(routing: RoutingService) -> None:
    await routing.add_specialist(NewSpecialist("Ann", identities=(Identity("slack", "U_ANN"),)))
    with pytest.raises(UserFacingError, match="already belongs to another specialist"):
        await routing.add_specialist(NewSpecialist("Bob", identities=(Identity("slack", "U_ANN"),)))


async def test_routes_can_be_listed_updated_and_removed(
    routing: RoutingService, add_specialists: AddSpecialists
) -> None:
    (specialist,) = await add_specialists(1)
    route_id = await _cardiology(routing, [specialist])
    await routing.link(route_id, specialist.id)  # linking twice is harmless
    updated = await routing.add_route(
        "slack",
        CARDIO.channel_id,
        "Cardiac care",
        notify_platform="slack",
        notify_channel_id="C_LIB",
    )
    assert (updated.id, updated.specialty, updated.specialist_ids) == (
        route_id,
        "Cardiac care",
        (specialist.id,),
    )
    assert [r.channel_id for r in await routing.list_routes()] == [CARDIO.channel_id]
    assert await routing.remove_route("slack", CARDIO.channel_id) is True
    assert await routing.list_routes() == ()


async def test_inactive_specialists_are_listed_only_on_request(
    routing: RoutingService, add_specialists: AddSpecialists
) -> None:
    first, second = await add_specialists(2)
    await routing.deactivate_specialist(first.id)
    assert [s.id for s in await routing.list_specialists()] == [second.id]
    assert len(await routing.list_specialists(include_inactive=True)) == 2


async def test_a_sign_in_email_links_a_platform_identity_to_its_active_specialist(
    routing: RoutingService,
) -> None:
    sam = await routing.add_specialist(
        NewSpecialist("Sam", email="Sam@nhs.net", identities=(Identity("slack", "U_SAM"),))
    )
    assert await routing.link_by_email("sam@NHS.net", "web", "sso-1") == "sso-1"
    assert await routing.link_by_email("sam@nhs.net", "web", "sso-2") == "sso-1"  # kept
    linked = await routing.specialist_for("web", "sso-1")
    assert linked is not None and linked.id == sam.id
    assert await routing.link_by_email("nobody@nhs.net", "web", "sso-3") is None
    await routing.deactivate_specialist(sam.id)
    assert await routing.link_by_email("sam@nhs.net", "teams", "29:x") is None
