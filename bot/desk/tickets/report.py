"""The activity report library managers send upwards: volume, speed, timeliness, impact.

A request belongs to the period in which it was made (England dates, both ends included), so
a report for a closed period does not change as its tickets are finished later, except for
their timings and impact, which are read as they stand. Times are wall-clock hours: that is
what a requester experiences, whereas working hours drive escalation.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Final

from sqlalchemy import select

from bot.db.models import Route, Ticket, TicketImpact
from bot.db.session import Database
from bot.desk.tickets.calendar import ENGLAND, local_date
from bot.desk.tickets.lifecycle import TicketStatus
from bot.desk.tickets.values import ImpactUse, Purpose

__all__ = ["CSV_HEADER", "Report", "build_report"]

CSV_HEADER: Final = ("section", "key", "value")
GENERAL_QUEUE: Final = "General queue"

Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    requests: int
    by_specialty: Counts
    by_purpose: Counts
    by_status: Counts
    median_hours_to_claim: float | None
    median_hours_to_complete: float | None
    completed: int
    completed_by_due_date: int
    impact_answers: int
    impact_helped: int
    impact_by_use: Counts
    time_saved_hours: float

    @property
    def share_completed_by_due_date(self) -> float | None:
        return _share(self.completed_by_due_date, self.completed)

    @property
    def share_helped(self) -> float | None:
        return _share(self.impact_helped, self.impact_answers)

    def rows(self) -> list[tuple[str, str, str]]:
        """(section, key, value) lines: the report's one layout, shared by CSV and table."""
        lines: list[tuple[str, str, str]] = [
            ("period", "start", self.start.isoformat()),
            ("period", "end", self.end.isoformat()),
            ("summary", "requests", str(self.requests)),
            ("summary", "median_hours_to_claim", _number(self.median_hours_to_claim)),
            ("summary", "median_hours_to_complete", _number(self.median_hours_to_complete)),
            ("summary", "completed", str(self.completed)),
            ("summary", "completed_by_due_date", str(self.completed_by_due_date)),
            ("summary", "share_completed_by_due_date", _number(self.share_completed_by_due_date)),
        ]
        lines += [("by_specialty", key, str(count)) for key, count in self.by_specialty]
        lines += [("by_purpose", key, str(count)) for key, count in self.by_purpose]
        lines += [("by_status", key, str(count)) for key, count in self.by_status]
        lines += [
            ("impact", "answers", str(self.impact_answers)),
            ("impact", "helped", str(self.impact_helped)),
            ("impact", "share_helped", _number(self.share_helped)),
            ("impact", "time_saved_hours", _number(self.time_saved_hours)),
        ]
        lines += [("impact_how_used", key, str(count)) for key, count in self.impact_by_use]
        return lines

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(self.rows())
        return buffer.getvalue()

    def to_table(self) -> str:
        rows = [CSV_HEADER, *self.rows()]
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        return "\n".join(
            f"{section:<{widths[0]}}  {key:<{widths[1]}}  {value}".rstrip()
            for section, key, value in rows
        )


async def build_report(db: Database, start: date, end: date) -> Report:
    """Summarise the requests made from `start` to `end` (inclusive, dates in England)."""
    if end < start:
        raise ValueError("the report period ends before it starts")
    since = datetime.combine(start, time(0), tzinfo=ENGLAND)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=ENGLAND)
    in_period = (Ticket.created_at >= since, Ticket.created_at < until)
    async with db.transaction() as session:
        tickets = (
            await session.execute(
                select(
                    Ticket.status,
                    Ticket.purpose,
                    Route.specialty,
                    Ticket.created_at,
                    Ticket.claimed_at,
                    Ticket.completed_at,
                    Ticket.due_date,
                )
                .outerjoin(Route, Ticket.route_id == Route.id)
                .where(*in_period)
            )
        ).all()
        impacts = (
            await session.execute(
                select(TicketImpact.helped, TicketImpact.how_used, TicketImpact.time_saved_hours)
                .join(Ticket, TicketImpact.ticket_id == Ticket.id)
                .where(*in_period)
            )
        ).all()

    to_claim = [_hours(t.created_at, t.claimed_at) for t in tickets if t.claimed_at]
    completions = [t for t in tickets if t.completed_at is not None]
    to_complete = [_hours(t.created_at, t.completed_at) for t in completions if t.completed_at]
    on_time = sum(
        1 for t in completions if t.completed_at and local_date(t.completed_at) <= t.due_date
    )
    uses = Counter(use for impact in impacts for use in impact.how_used)
    return Report(
        start=start,
        end=end,
        requests=len(tickets),
        by_specialty=_sorted_counts(Counter(t.specialty or GENERAL_QUEUE for t in tickets)),
        by_purpose=_all_counts(Counter(t.purpose for t in tickets), Purpose),
        by_status=_all_counts(Counter(t.status for t in tickets), TicketStatus),
        median_hours_to_claim=median(to_claim) if to_claim else None,
        median_hours_to_complete=median(to_complete) if to_complete else None,
        completed=len(completions),
        completed_by_due_date=on_time,
        impact_answers=len(impacts),
        impact_helped=sum(1 for impact in impacts if impact.helped),
        impact_by_use=_all_counts(uses, ImpactUse),
        time_saved_hours=sum(impact.time_saved_hours or 0.0 for impact in impacts),
    )


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _sorted_counts(counts: Counter[str]) -> Counts:
    """Largest first, then by name, so the report reads the same every time."""
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _all_counts(counts: Counter[str], values: Iterable[str]) -> Counts:
    """Every possible value in its defined order, zeros included, so columns line up."""
    return tuple((str(value), counts.get(value, 0)) for value in values)
