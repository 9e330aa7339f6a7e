"""Finding the messages posted about a ticket by their tracking keys, on both databases: the
escalations that carry its buttons, the thread a question landed in, the card's thread."""

from __future__ import annotations

from bot.db.models import PostedMessage
from bot.db.session import Database
from bot.delivery.outbox import Destination, Outbox
from bot.desk.tickets.posts import (
    asked_key,
    card_in_thread,
    card_key,
    escalation_key,
    escalation_posts,
    references_asked_in,
)
from bot.messages import Intent, Reply

REF, OTHER = "KLS-2026-00001", "KLS-2026-00011"


async def posted(database: Database, key: str, channel: str, message_id: str) -> None:
    async with database.transaction() as session:
        session.add(PostedMessage(card_key=key, platform="slack", channel_id=channel,
                                  thread_id=None, message_id=message_id))  # fmt: skip


async def test_escalations_of_a_ticket_are_found_posted_or_still_queued(database: Database) -> None:
    await posted(database, escalation_key(REF, "unclaimed", "slack", "C0LIB"), "C0LIB", "C0LIB:1.1")
    await posted(database, escalation_key(OTHER, "overdue", "slack", "C0LIB"), "C0LIB", "C0LIB:1.2")
    await posted(database, card_key(REF), "C0LIB", "C0LIB:1.0")
    queued = escalation_key(REF, "overdue", "teams", "19:lib@thread.tacv2")
    await Outbox(database).enqueue(
        Destination("teams", "19:lib@thread.tacv2"), Reply("x", Intent.SEARCH_REQUEST),
        card_key=queued,
    )  # fmt: skip
    found = {(p.kind, p.platform, p.channel_id) for p in await escalation_posts(database, REF)}
    assert found == {("unclaimed", "slack", "C0LIB"), ("overdue", "teams", "19:lib@thread.tacv2")}


async def test_a_question_is_found_by_its_thread_or_its_direct_conversation(
    database: Database,
) -> None:
    await posted(database, asked_key(REF), "U0REQ", "D0REQ:1800.000001")
    await posted(database, asked_key(OTHER), "C0WARD", "C0WARD:1800.000002")
    assert await references_asked_in(database, "slack", "C0WARD", "1800.000002", False) == [OTHER]
    assert await references_asked_in(database, "slack", "D0REQ", None, True) == [REF]
    assert await references_asked_in(database, "slack", "D0REQ", None, False) == []
    assert await references_asked_in(database, "slack", "C0WARD", "1800.000009", False) == []


async def test_a_cards_thread_names_its_ticket_and_no_other_thread_does(database: Database) -> None:
    await posted(database, card_key(REF), "C0LIB", "C0LIB:1800.000003")
    await posted(database, escalation_key(OTHER, "unclaimed", "slack", "C0LIB"), "C0LIB",
                 "C0LIB:1800.000004")  # fmt: skip
    assert await card_in_thread(database, "slack", "C0LIB", "1800.000003") == REF
    assert await card_in_thread(database, "slack", "C0LIB", "1800.000004") is None
    assert await card_in_thread(database, "slack", "C0LIB", None) is None
