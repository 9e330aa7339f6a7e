"""Messages on a ticket: relayed both ways in order, internal notes, deliverables, impact."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bot.db.session import Database
from bot.desk.tickets.errors import TicketRefused
from bot.desk.tickets.routing import SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Actor, ImpactAnswers, ImpactUse, MessageDirection, TicketDraft
from bot.desk.tickets.views import TicketView

from .conftest import FakeClock

D = MessageDirection
VALID_NHS_NUMBER = "9434765919"
AddSpecialists = Callable[..., Coroutine[Any, Any, list[SpecialistView]]]


@pytest.fixture
async def claimed(
    service: TicketService, draft: Callable[..., TicketDraft], add_specialists: AddSpecialists
) -> tuple[TicketView, SpecialistView]:
    (specialist,) = await add_specialists(1)
    ticket = await service.create(draft())
    return await service.claim(ticket.reference, specialist.id), specialist


async def test_relayed_messages_come_back_in_the_order_they_were_sent(
    service: TicketService, clock: FakeClock, claimed: tuple[TicketView, SpecialistView]
) -> None:
    ticket, specialist = claimed
    await service.ask_requester(ticket.reference, specialist.id, "Adults or children?")
    clock.advance(minutes=5)
    await service.requester_replied(ticket.reference, "Adults")
    await service.ask_requester(ticket.reference, specialist.id, "Any date limit?")
    await service.requester_replied(ticket.reference, "Last ten years")
    messages = await service.messages(ticket.reference)
    assert [(m.direction, m.text) for m in messages] == [
        (D.TO_REQUESTER, "Adults or children?"),
        (D.FROM_REQUESTER, "Adults"),
        (D.TO_REQUESTER, "Any date limit?"),
        (D.FROM_REQUESTER, "Last ten years"),
    ]
    assert messages[1].author == "slack:U_REQ"
    assert messages[0].at < messages[1].at


async def test_internal_notes_are_flagged_and_left_out_of_the_requester_view(
    service: TicketService, claimed: tuple[TicketView, SpecialistView]
) -> None:
    ticket, specialist = claimed
    note = await service.add_note(ticket.reference, Actor.specialist(specialist.id), "Try CINAHL")
    assert note.is_internal
    assert (await service.messages(ticket.reference))[0].is_internal
    assert await service.messages(ticket.reference, include_internal=False) == ()


async def test_complete_stores_the_deliverable(
    service: TicketService, claimed: tuple[TicketView, SpecialistView]
) -> None:
    ticket, specialist = claimed
    done = await service.complete(
        ticket.reference,
        specialist.id,
        "Two systematic reviews and a NICE guideline.",
        ["https://pubmed.ncbi.nlm.nih.gov/1/", "https://www.nice.org.uk/guidance/ng1"],
        "sharepoint://evidence/falls.pdf",
    )
    assert done.completed_at is not None
    (deliverable,) = await service.messages(ticket.reference)
    assert deliverable.direction is D.DELIVERABLE
    assert deliverable.text == "Two systematic reviews and a NICE guideline."
    assert deliverable.links == (
        "https://pubmed.ncbi.nlm.nih.gov/1/",
        "https://www.nice.org.uk/guidance/ng1",
    )
    assert deliverable.attachment_ref == "sharepoint://evidence/falls.pdf"


async def test_a_reply_with_an_nhs_number_is_redacted_and_flags_the_ticket(
    service: TicketService, database: Database, claimed: tuple[TicketView, SpecialistView]
) -> None:
    ticket, specialist = claimed
    await service.ask_requester(ticket.reference, specialist.id, "Which patient group?")
    updated = await service.requester_replied(ticket.reference, f"the one with {VALID_NHS_NUMBER}")
    assert updated.privacy_redacted
    assert VALID_NHS_NUMBER not in (await service.messages(ticket.reference))[-1].text


async def test_impact_answers_are_stored(
    service: TicketService, claimed: tuple[TicketView, SpecialistView]
) -> None:
    ticket, specialist = claimed
    await service.complete(ticket.reference, specialist.id, "Done", [])
    answers = ImpactAnswers(
        respondent=Actor.person("slack", "U_REQ"),
        helped=True,
        how_used=frozenset({ImpactUse.SERVICE_CHANGE, ImpactUse.TEACHING}),
        time_saved_hours=3.5,
        comment="Changed our falls bundle",
    )
    await service.record_impact(ticket.reference, answers)
    (stored,) = await service.impacts(ticket.reference)
    assert (stored.helped, stored.how_used, stored.time_saved_hours, stored.comment) == (
        True,
        frozenset({ImpactUse.SERVICE_CHANGE, ImpactUse.TEACHING}),
        3.5,
        "Changed our falls bundle",
    )
    assert (await service.events(ticket.reference))[-1].action == "impact_recorded"


async def test_impact_cannot_be_recorded_before_completion(
    service: TicketService, claimed: tuple[TicketView, SpecialistView]
) -> None:
    ticket, _ = claimed
    with pytest.raises(TicketRefused, match="once it is completed"):
        await service.record_impact(ticket.reference, ImpactAnswers(Actor("slack:U_REQ"), True))
