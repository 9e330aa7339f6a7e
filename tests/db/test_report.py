"""The activity report: counts, medians, timeliness, impact, and its CSV and table forms."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any

import pytest

from bot.db.session import Database
from bot.desk.tickets.report import CSV_HEADER, Report, build_report
from bot.desk.tickets.routing import RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Actor, ImpactAnswers, ImpactUse, Origin, Purpose, TicketDraft

from .conftest import START, FakeClock

AddSpecialists = Callable[..., Coroutine[Any, Any, list[SpecialistView]]]
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
async def march(
    service: TicketService,
    routing: RoutingService,
    database: Database,
    clock: FakeClock,
    draft: Callable[..., TicketDraft],
    add_specialists: AddSpecialists,
) -> Report:
    """Three March requests (one on time, one late, one untouched) and one in April."""
    (specialist,) = await add_specialists(1)
    await routing.add_route("slack", "C_CARDIO", "Cardiology")
    on_time = await service.create(
        draft(origin=Origin("slack", "C_CARDIO"), purpose=Purpose.DIRECT_PATIENT_CARE)
    )
    late = await service.create(draft(purpose=Purpose.RESEARCH))
    await service.create(draft(purpose=Purpose.RESEARCH))
    clock.advance(hours=2)
    await service.claim(on_time.reference, specialist.id)
    clock.advance(hours=2)
    await service.claim(late.reference, specialist.id)
    clock.now = START.replace(day=3, hour=12)  # 26 hours after the requests
    await service.complete(on_time.reference, specialist.id, "done", [])
    clock.now = START.replace(day=12)  # 240 hours after; due 9 March
    await service.complete(late.reference, specialist.id, "done", [])
    requester = Actor.person("slack", "U_REQ")
    await service.record_impact(
        on_time.reference,
        ImpactAnswers(requester, True, frozenset({ImpactUse.PATIENT_CARE_DECISION}), 2.0),
    )
    await service.record_impact(late.reference, ImpactAnswers(requester, False))
    clock.now = datetime(2026, 4, 1, 10, tzinfo=START.tzinfo)
    await service.create(draft())
    return await build_report(database, *MARCH)


def test_report_counts_requests_of_the_period_by_specialty_purpose_and_status(
    march: Report,
) -> None:
    assert march.requests == 3
    assert march.by_specialty == (("General queue", 2), ("Cardiology", 1))
    assert dict(march.by_purpose)["research"] == 2
    assert dict(march.by_purpose)["direct_patient_care"] == 1
    assert dict(march.by_status) == {
        "new": 1,
        "claimed": 0,
        "in_progress": 0,
        "awaiting_requester": 0,
        "completed": 2,
        "closed": 0,
        "cancelled": 0,
    }


def test_report_medians_are_in_hours(march: Report) -> None:
    assert march.median_hours_to_claim == 3.0
    assert march.median_hours_to_complete == (26 + 240) / 2


def test_report_share_completed_by_due_date(march: Report) -> None:
    assert (march.completed, march.completed_by_due_date) == (2, 1)
    assert march.share_completed_by_due_date == 0.5


def test_report_summarises_impact(march: Report) -> None:
    assert (march.impact_answers, march.impact_helped, march.share_helped) == (2, 1, 0.5)
    assert dict(march.impact_by_use)["patient_care_decision"] == 1
    assert march.time_saved_hours == 2.0


def test_report_csv_has_a_header_and_one_value_per_line(march: Report) -> None:
    rows = list(csv.reader(io.StringIO(march.to_csv())))
    assert rows[0] == list(CSV_HEADER) == ["section", "key", "value"]
    assert ["summary", "median_hours_to_claim", "3.00"] in rows
    assert ["by_specialty", "Cardiology", "1"] in rows
    assert all(len(row) == 3 for row in rows)


def test_report_table_lists_the_same_lines(march: Report) -> None:
    lines = march.to_table().splitlines()
    assert len(lines) == len(march.rows()) + 1
    assert lines[0].split() == ["section", "key", "value"]


async def test_report_of_an_empty_period_has_no_medians(database: Database) -> None:
    report = await build_report(database, *MARCH)
    assert (report.requests, report.median_hours_to_claim, report.share_helped) == (0, None, None)
    assert "summary,median_hours_to_claim,\n" in report.to_csv()
