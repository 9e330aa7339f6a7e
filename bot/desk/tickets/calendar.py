"""Working time in England: weekdays, office hours, and bank holidays.

Turnaround promises ("five working days") and escalation clocks ("unclaimed for eight working
hours") are counted in the library's working time, not wall-clock time, or every Friday
afternoon request would be overdue by Monday. Bank holidays come from the `holidays` package
(England, including substitute days such as 28 December 2026); everything is computed in
Europe/London local time, so the clocks follow BST changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "ENGLAND",
    "OFFICE_HOURS",
    "WorkingHours",
    "add_working_days",
    "due_date_for",
    "is_bank_holiday",
    "is_working_day",
    "is_working_time",
    "local_date",
    "next_working_start",
    "working_hours_between",
]

ENGLAND: Final = ZoneInfo("Europe/London")
MONDAY_TO_FRIDAY: Final = frozenset(range(5))
_BANK_HOLIDAYS: Final = holidays.country_holidays("GB", subdiv="ENG")
# Far enough to cross any run of holidays and weekends; a guard against a calendar bug
# turning a search for the next working day into an endless loop.
_MAX_DAYS_TO_SEARCH: Final = 60


@dataclass(frozen=True)
class WorkingHours:
    """Hours of work on working weekdays, in local time (`zone`); end is exclusive."""

    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = MONDAY_TO_FRIDAY  # Monday = 0
    zone: ZoneInfo = field(default=ENGLAND)

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("working hours must start before they end")
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError("working weekdays must be a non-empty set of 0 (Monday) to 6")


OFFICE_HOURS: Final = WorkingHours()


def is_bank_holiday(day: date) -> bool:
    return day in _BANK_HOLIDAYS


def is_working_day(day: date, weekdays: frozenset[int] = MONDAY_TO_FRIDAY) -> bool:
    return day.weekday() in weekdays and not is_bank_holiday(day)


def local_date(moment: datetime, zone: ZoneInfo = ENGLAND) -> date:
    """The calendar date in England at `moment` (an aware datetime)."""
    return _aware(moment).astimezone(zone).date()


def add_working_days(start: date, days: int, weekdays: frozenset[int] = MONDAY_TO_FRIDAY) -> date:
    """The date `days` working days after `start` (which itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    if not weekdays:
        raise ValueError("there must be at least one working weekday")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, weekdays):
            remaining -= 1
    return current


def due_date_for(created_at: datetime, deadline: date | None, working_days: int = 5) -> date:
    """The requester's deadline if they gave one, else `working_days` after the request."""
    if deadline is not None:
        return deadline
    return add_working_days(local_date(created_at), working_days)


def is_working_time(moment: datetime, hours: WorkingHours = OFFICE_HOURS) -> bool:
    local = _aware(moment).astimezone(hours.zone)
    return is_working_day(local.date(), hours.weekdays) and hours.start <= local.time() < hours.end


def next_working_start(moment: datetime, hours: WorkingHours = OFFICE_HOURS) -> datetime:
    """`moment` if it is working time, else when working time next begins (in UTC)."""
    if is_working_time(moment, hours):
        return _aware(moment).astimezone(UTC)
    local = _aware(moment).astimezone(hours.zone)
    day = local.date()
    if not (is_working_day(day, hours.weekdays) and local.time() < hours.start):
        day = _next_working_day(day, hours.weekdays)
    return datetime.combine(day, hours.start, tzinfo=hours.zone).astimezone(UTC)


def working_hours_between(
    start: datetime, end: datetime, hours: WorkingHours = OFFICE_HOURS
) -> float:
    """Working hours from `start` to `end` (0 if `end` is not after `start`)."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0.0
    total = timedelta()
    day = start.astimezone(hours.zone).date()
    last = end.astimezone(hours.zone).date()
    while day <= last:
        if is_working_day(day, hours.weekdays):
            opens = datetime.combine(day, hours.start, tzinfo=hours.zone)
            closes = datetime.combine(day, hours.end, tzinfo=hours.zone)
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def _next_working_day(day: date, weekdays: frozenset[int]) -> date:
    for offset in range(1, _MAX_DAYS_TO_SEARCH + 1):
        candidate = day + timedelta(days=offset)
        if is_working_day(candidate, weekdays):
            return candidate
    raise ValueError(f"no working day within {_MAX_DAYS_TO_SEARCH} days of {day}")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is needed for working-time sums")
    return moment
