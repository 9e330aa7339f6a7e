"""Every legal status change through the service, refusals of illegal ones, and the audit trail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from bot.desk.tickets.errors import BadReference, SpecialistNotFound, TicketNotFound
from bot.desk.tickets.lifecycle import IllegalTransition, TicketStatus
from bot.desk.tickets.routing import RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Actor, TicketDraft
from bot.desk.tickets.views import TicketView

S = TicketStatus
LEAD = Actor.person("slack", "U_LEAD")
Step = Callable[[TicketService, str, int], Awaitable[TicketView]]

# Each step of the lifecycle as a service call: (reference, specialist id) -> new view.
STEPS: dict[str, Step] = {
    "claim": lambda s, ref, who: s.claim(ref, who),
    "unclaim": lambda s, ref, who: s.unclaim(ref, Actor.specialist(who)),
    "start": lambda s, ref, who: s.start(ref, Actor.specialist(who)),
    "ask": lambda s, ref, who: s.ask_requester(ref, who, "Adults only, or children too?"),
    "reply": lambda s, ref, who: s.requester_replied(ref, "Adults only"),
    "complete": lambda s, ref, who: s.complete(
        ref, who, "Three reviews found", ["https://x.org/1"]
    ),
    "close": lambda s, ref, who: s.close(ref, LEAD),
    "cancel": lambda s, ref, who: s.cancel(ref, LEAD, "duplicate"),
    "reopen": lambda s, ref, who: s.reopen(ref, LEAD),
}

# Paths that together take every allowed transition; the last step's (from, to) is checked.
PATHS: list[tuple[list[str], S, S]] = [
    (["claim"], S.NEW, S.CLAIMED),
    (["claim", "start"], S.CLAIMED, S.IN_PROGRESS),
    (["claim", "start", "ask"], S.IN_PROGRESS, S.AWAITING_REQUESTER),
    (["claim", "start", "ask", "reply"], S.AWAITING_REQUESTER, S.IN_PROGRESS),
    (["claim", "complete"], S.CLAIMED, S.COMPLETED),
    (["claim", "start", "complete"], S.IN_PROGRESS, S.COMPLETED),
    (["claim", "start", "ask", "complete"], S.AWAITING_REQUESTER, S.COMPLETED),
    (["claim", "complete", "close"], S.COMPLETED, S.CLOSED),
    (["cancel"], S.NEW, S.CANCELLED),
    (["claim", "cancel"], S.CLAIMED, S.CANCELLED),
    (["claim", "start", "cancel"], S.IN_PROGRESS, S.CANCELLED),
    (["claim", "start", "ask", "cancel"], S.AWAITING_REQUESTER, S.CANCELLED),
    (["claim", "complete", "reopen"], S.COMPLETED, S.IN_PROGRESS),
    (["claim", "complete", "close", "reopen"], S.CLOSED, S.IN_PROGRESS),
    (["claim", "cancel", "reopen"], S.CANCELLED, S.IN_PROGRESS),
    (["cancel", "reopen"], S.CANCELLED, S.NEW),
    (["claim", "unclaim"], S.CLAIMED, S.NEW),
    (["claim", "start", "unclaim"], S.IN_PROGRESS, S.NEW),
]

AddSpecialists = Callable[..., Coroutine[Any, Any, list[SpecialistView]]]


async def _walk(service: TicketService, ref: str, who: int, steps: list[str]) -> TicketView:
    view = await service.get(ref)
    for step in steps:
        view = await STEPS[step](service, ref, who)
    return view


@pytest.mark.parametrize(
    ("steps", "before", "after"), PATHS, ids=["-".join(steps) for steps, _, _ in PATHS]
)
async def test_legal_transition_changes_status_and_is_audited(
    service: TicketService,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
    steps: list[str],
    before: S,
    after: S,
) -> None:
    (specialist,) = await add_specialists(1)
    ticket = await service.create(draft())
    view = await _walk(service, ticket.reference, specialist.id, steps)
    assert view.status is after
    status_changes = [e for e in await service.events(ticket.reference) if e.to_status is not None]
    assert (status_changes[-1].from_status, status_changes[-1].to_status) == (before, after)


ILLEGAL: list[tuple[list[str], str, str]] = [
    (
        ["claim", "complete"],
        "claim",
        "KLS-2026-00001 is completed; it cannot be claimed. Reopen it first.",
    ),
    ([], "complete", "KLS-2026-00001 is new; it cannot be completed. Claim it first."),
    ([], "start", "KLS-2026-00001 is new; it cannot be started. Claim it first."),
    (["claim"], "close", "KLS-2026-00001 is claimed; it cannot be closed."),
    (
        ["claim", "start"],
        "reopen",
        "KLS-2026-00001 is in progress; it cannot be reopened. It is still open.",
    ),
    (
        ["cancel"],
        "cancel",
        "KLS-2026-00001 is cancelled; it cannot be cancelled. Reopen it first.",
    ),
    (
        ["claim", "start", "ask"],
        "unclaim",
        "KLS-2026-00001 is waiting for the requester; it cannot be unclaimed.",
    ),
    (
        ["claim", "complete", "close"],
        "reply",
        "KLS-2026-00001 is closed; it cannot be resumed. Reopen it first.",
    ),
    (["claim"], "claim", "KLS-2026-00001 has already been claimed by Specialist 1."),
]


@pytest.mark.parametrize(
    ("steps", "illegal", "message"),
    ILLEGAL,
    ids=[f"{step}-after-{'-'.join(steps) or 'create'}" for steps, step, _ in ILLEGAL],
)
async def test_illegal_transition_is_refused_with_a_clear_message(
    service: TicketService,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
    steps: list[str],
    illegal: str,
    message: str,
) -> None:
    (specialist,) = await add_specialists(1)
    ticket = await service.create(draft())
    before = await _walk(service, ticket.reference, specialist.id, steps)
    events_before = await service.events(ticket.reference)
    with pytest.raises(IllegalTransition) as raised:
        await STEPS[illegal](service, ticket.reference, specialist.id)
    assert str(raised.value) == message
    assert (await service.get(ticket.reference)).status is before.status
    assert await service.events(ticket.reference) == events_before


async def test_every_change_writes_an_event_with_from_and_to(
    service: TicketService, draft: Callable[..., TicketDraft], add_specialists: AddSpecialists
) -> None:
    (specialist,) = await add_specialists(1)
    ref = (await service.create(draft())).reference
    await _walk(
        service, ref, specialist.id, ["claim", "start", "ask", "reply", "complete", "close"]
    )
    changes = [
        (e.action, e.from_status, e.to_status)
        for e in await service.events(ref)
        if e.to_status is not None
    ]
    assert changes == [
        ("created", None, S.NEW),
        ("claim", S.NEW, S.CLAIMED),
        ("start", S.CLAIMED, S.IN_PROGRESS),
        ("ask_requester", S.IN_PROGRESS, S.AWAITING_REQUESTER),
        ("requester_replied", S.AWAITING_REQUESTER, S.IN_PROGRESS),
        ("complete", S.IN_PROGRESS, S.COMPLETED),
        ("close", S.COMPLETED, S.CLOSED),
    ]


async def test_audit_events_name_the_actor_and_hold_no_free_text(
    service: TicketService, draft: Callable[..., TicketDraft], add_specialists: AddSpecialists
) -> None:
    (specialist,) = await add_specialists(1)
    ref = (await service.create(draft())).reference
    await service.claim(ref, specialist.id)
    await service.cancel(ref, LEAD, "requester left the trust")
    events = await service.events(ref)
    assert [e.actor for e in events] == [
        "slack:U_REQ",
        f"specialist:{specialist.id}",
        "slack:U_LEAD",
    ]
    assert all("trust" not in str(e.details) for e in events)


async def test_asking_a_claimed_ticket_starts_it_first(
    service: TicketService, draft: Callable[..., TicketDraft], add_specialists: AddSpecialists
) -> None:
    (specialist,) = await add_specialists(1)
    ref = (await service.create(draft())).reference
    await service.claim(ref, specialist.id)
    view = await service.ask_requester(ref, specialist.id, "Which setting?")
    assert view.status is S.AWAITING_REQUESTER
    actions = [e.action for e in await service.events(ref)]
    assert actions[-3:] == ["start", "ask_requester", "message_to_requester"]


async def test_claim_sets_assignee_and_unclaim_clears_it(
    service: TicketService, draft: Callable[..., TicketDraft], add_specialists: AddSpecialists
) -> None:
    (specialist,) = await add_specialists(1)
    ref = (await service.create(draft())).reference
    claimed = await service.claim(ref, specialist.id)
    assert (claimed.assignee_id, claimed.assignee_name) == (specialist.id, "Specialist 1")
    assert claimed.claimed_at is not None
    released = await service.unclaim(ref)
    assert (released.assignee_id, released.claimed_at) == (None, None)


async def test_reassign_moves_open_work_and_claims_a_new_ticket(
    service: TicketService, draft: Callable[..., TicketDraft], add_specialists: AddSpecialists
) -> None:
    first, second = await add_specialists(2)
    ref = (await service.create(draft())).reference
    given = await service.reassign(ref, first.id, LEAD)
    assert (given.status, given.assignee_id) == (S.CLAIMED, first.id)
    await service.start(ref)
    moved = await service.reassign(ref, second.id, LEAD)
    assert (moved.status, moved.assignee_id) == (S.IN_PROGRESS, second.id)
    last = (await service.events(ref))[-1]
    assert (last.action, dict(last.details)) == (
        "reassign",
        {"from_assignee": first.id, "to_assignee": second.id},
    )


async def test_reopen_without_an_assignee_returns_to_the_queue(
    service: TicketService, draft: Callable[..., TicketDraft]
) -> None:
    ref = (await service.create(draft())).reference
    await service.cancel(ref, LEAD)
    reopened = await service.reopen(ref, LEAD)
    assert (reopened.status, reopened.closed_at) == (S.NEW, None)


async def test_reopen_with_an_assignee_returns_it_to_them_in_progress(
    service: TicketService, draft: Callable[..., TicketDraft], add_specialists: AddSpecialists
) -> None:
    (specialist,) = await add_specialists(1)
    ref = (await service.create(draft())).reference
    await service.claim(ref, specialist.id)
    await service.complete(ref, specialist.id, "Done", [])
    await service.close(ref)
    reopened = await service.reopen(ref, LEAD)
    assert (reopened.status, reopened.assignee_id) == (S.IN_PROGRESS, specialist.id)
    assert (reopened.completed_at, reopened.closed_at) == (None, None)


async def test_claim_by_an_inactive_specialist_is_refused(
    service: TicketService,
    routing: RoutingService,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
) -> None:
    (specialist,) = await add_specialists(1)
    await routing.deactivate_specialist(specialist.id)
    ref = (await service.create(draft())).reference
    with pytest.raises(SpecialistNotFound, match="is no longer active"):
        await service.claim(ref, specialist.id)


async def test_unknown_reference_is_not_found(service: TicketService) -> None:
    with pytest.raises(TicketNotFound, match=r"^There is no ticket KLS-2026-00077\.$"):
        await service.get("kls-2026-77")


async def test_text_that_is_not_a_reference_is_not_echoed(service: TicketService) -> None:
    with pytest.raises(BadReference) as raised:
        await service.get("patient 9434765919")
    assert "9434765919" not in str(raised.value)
