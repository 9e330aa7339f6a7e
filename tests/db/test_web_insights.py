"""The learning loop's grouping and counts, and the tickets dashboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.db.session import Database
from bot.desk.feedback import FeedbackStore, UnansweredView
from bot.desk.insights import bar_chart, dashboard, feedback_counts, group_questions
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import TicketDraft
from knowledge.normalize import Normalizer
from tests.db.conftest import START, FakeClock


def test_questions_that_say_the_same_thing_are_counted_together() -> None:
    normalizer = Normalizer({"laptop": ["lap top"]})
    seen = datetime(2026, 3, 1, tzinfo=UTC)
    groups = group_questions(
        [
            UnansweredView("how do I borrow a laptop", 3, seen),
            UnansweredView("borrowing a lap top?", 2, seen + timedelta(days=1)),
            UnansweredView("where can I park", 1, seen),
        ],
        lambda text: normalizer.terms(text, correct=False),
    )
    assert [(g.text, g.count) for g in groups] == [
        ("how do I borrow a laptop", 5),
        ("where can I park", 1),
    ]
    assert groups[0].variants == ("how do I borrow a laptop", "borrowing a lap top?")
    assert groups[0].last_seen == seen + timedelta(days=1)


async def test_not_helpful_votes_are_counted_per_entry(
    database: Database, scanner: PrivacyScanner
) -> None:
    feedback = FeedbackStore(database, scanner, "salt")
    for user, helpful in (("a", False), ("b", False), ("c", True)):
        await feedback.record_vote("entry-one", helpful, "web", user)
    await feedback.record_vote("entry-two", True, "web", "a")
    counts = await feedback_counts(database)
    assert [(c.faq_id, c.not_helpful, c.helpful) for c in counts] == [("entry-one", 2, 1)]


async def test_the_dashboard_counts_open_overdue_and_requests_per_week(
    database: Database,
    service: TicketService,
    clock: FakeClock,
    draft: Callable[..., TicketDraft],
    add_specialists: Callable[..., Any],
) -> None:
    (specialist,) = await add_specialists(1)
    first = await service.create(draft())
    await service.create(draft())
    clock.advance(days=8)
    third = await service.create(draft())
    await service.claim(third.reference, specialist.id)
    await service.complete(third.reference, specialist.id, "done", [], None)
    summary = await dashboard(database, (clock() + timedelta(days=1)).date())
    assert summary.open_total == 2
    overdue = [ref for ref, *_ in summary.overdue]
    assert len(overdue) == 2 and first.reference in overdue  # due 5 working days after
    assert summary.open_by_team == (("General queue", (("new", 2), ("claimed", 0),
                                    ("in_progress", 0), ("awaiting_requester", 0))),)  # fmt: skip
    assert sum(n for _, n in summary.weeks) == 3
    assert summary.weeks[-1][1] == 1 and summary.weeks[-2][1] == 2
    assert summary.completed_in_period == 1
    assert summary.median_hours_to_complete is not None
    assert START.date() <= summary.weeks[-2][0] + timedelta(days=6)


def test_the_chart_is_accessible_svg_with_a_bar_per_week() -> None:
    monday = datetime(2026, 3, 2, tzinfo=UTC).date()
    svg = str(bar_chart([(monday, 2), (monday + timedelta(weeks=1), 0)], "Requests <per> week"))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "Requests &lt;per&gt; week" in svg
    assert svg.count("<rect") == 2
    assert "Week of 2 Mar 2026: 2 request(s)" in svg
