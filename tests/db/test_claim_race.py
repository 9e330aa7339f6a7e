"""Simultaneous claims: the database, not luck, decides that exactly one specialist wins."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from bot.desk.tickets.lifecycle import IllegalTransition, TicketStatus
from bot.desk.tickets.routing import SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import TicketDraft
from bot.desk.tickets.views import TicketView

AddSpecialists = Callable[..., Coroutine[Any, Any, list[SpecialistView]]]


async def test_ten_concurrent_claims_have_exactly_one_winner(
    service: TicketService, draft: Callable[..., TicketDraft], add_specialists: AddSpecialists
) -> None:
    specialists = await add_specialists(10)
    ref = (await service.create(draft())).reference

    # Each claim runs in its own session and transaction, all started together.
    outcomes = await asyncio.gather(
        *(service.claim(ref, specialist.id) for specialist in specialists),
        return_exceptions=True,
    )

    winners = [o for o in outcomes if isinstance(o, TicketView)]
    losers = [o for o in outcomes if isinstance(o, IllegalTransition)]
    assert len(winners) == 1
    assert len(losers) == 9
    winner = winners[0]
    assert all(
        str(loser) == f"{ref} has already been claimed by {winner.assignee_name}."
        for loser in losers
    )
    stored = await service.get(ref)
    assert (stored.status, stored.assignee_id) == (TicketStatus.CLAIMED, winner.assignee_id)
    claims = [e for e in await service.events(ref) if e.action == "claim"]
    assert len(claims) == 1
