"""Working days and hours in England: weekends, bank holidays (with substitute days), BST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.desk.tickets.calendar import (
    OFFICE_HOURS,
    WorkingHours,
    add_working_days,
    due_date_for,
    is_bank_holiday,
    is_working_time,
    next_working_start,
    working_hours_between,
)


def test_working_days_skip_weekends() -> None:
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday -> Monday


def test_christmas_and_the_boxing_day_substitute_are_bank_holidays() -> None:
    assert is_bank_holiday(date(2026, 12, 25))
    assert is_bank_holiday(date(2026, 12, 28))  # Boxing Day falls on a Saturday


def test_working_days_skip_england_bank_holidays() -> None:
    # Thu 24 Dec 2026 + 1 working day: not Fri 25 (Christmas), not Mon 28 (substitute day).
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_default_due_date_is_five_working_days_after_the_request() -> None:
    assert due_date_for(datetime(2026, 4, 1, 12, tzinfo=UTC), None) == date(2026, 4, 10)  # Easter


def test_a_given_deadline_wins_over_the_turnaround() -> None:
    assert due_date_for(datetime(2026, 4, 1, tzinfo=UTC), date(2026, 4, 2)) == date(2026, 4, 2)


def test_working_time_is_local_office_hours_on_working_days() -> None:
    assert is_working_time(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert not is_working_time(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    assert not is_working_time(datetime(2026, 3, 7, 12, 0, tzinfo=UTC))  # Saturday
    assert not is_working_time(datetime(2026, 12, 28, 12, 0, tzinfo=UTC))


def test_working_time_follows_british_summer_time() -> None:
    # 08:30 UTC on 1 June is 09:30 BST.
    assert is_working_time(datetime(2026, 6, 1, 8, 30, tzinfo=UTC))


def test_next_working_start_after_friday_evening_is_monday_morning() -> None:
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    assert next_working_start(friday_evening) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_next_working_start_inside_working_time_is_now() -> None:
    now = datetime(2026, 3, 3, 11, 15, tzinfo=UTC)
    assert next_working_start(now) == now


def test_working_hours_between_skip_nights_and_weekends() -> None:
    friday_4pm = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    monday_10am = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert working_hours_between(friday_4pm, monday_10am) == 2.0


def test_working_hours_between_use_the_given_hours() -> None:
    early = WorkingHours(time(7, 0), time(15, 0), frozenset({0, 1, 2, 3, 4}))
    start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert working_hours_between(start, noon, early) == 5.0
    assert working_hours_between(start, noon, OFFICE_HOURS) == 3.0
    assert working_hours_between(noon, start) == 0.0
