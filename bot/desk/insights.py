"""What the admin console summarises: the learning loop and the tickets dashboard.

Pure data (and one SVG chart) so it can be tested without a browser.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median

from markupsafe import Markup
from sqlalchemy import case, func, select

from bot.db.models import FaqFeedback, Route, Ticket
from bot.db.session import Database
from bot.desk.feedback import UnansweredView
from bot.desk.tickets.calendar import ENGLAND, local_date
from bot.desk.tickets.lifecycle import OPEN_STATUSES, TicketStatus
from bot.desk.tickets.report import GENERAL_QUEUE

#: The matcher keeps these (they can carry a topic); for grouping they only add noise.
_QUESTION_WORDS = frozenset({"how", "what", "where", "when", "who", "which", "whi", "why"})


@dataclass(frozen=True)
class QuestionGroup:
    """Unanswered questions that say the same thing, counted together."""

    text: str  # the most asked wording
    count: int
    variants: tuple[str, ...]
    last_seen: datetime


def group_questions(
    questions: Iterable[UnansweredView], terms: Callable[[str], Sequence[str]]
) -> list[QuestionGroup]:
    """Group by the matcher's own normalised terms (synonyms, stop words, stems), so that
    "opening times library?" and "library opening time" are one line; most asked first."""
    groups: dict[str, list[UnansweredView]] = defaultdict(list)
    for question in questions:
        words = set(terms(question.text)) - _QUESTION_WORDS
        key = " ".join(sorted(words)) or question.text.strip().lower()
        groups[key].append(question)
    result = []
    for members in groups.values():
        members.sort(key=lambda q: (-q.count, q.text))
        result.append(
            QuestionGroup(
                text=members[0].text,
                count=sum(q.count for q in members),
                variants=tuple(q.text for q in members),
                last_seen=max(q.last_seen for q in members),
            )
        )
    return sorted(result, key=lambda g: (-g.count, g.text))


@dataclass(frozen=True)
class FeedbackCount:
    faq_id: str
    not_helpful: int
    helpful: int


async def feedback_counts(db: Database) -> list[FeedbackCount]:
    """Votes per FAQ entry, the most "not helpful" first (entries with none are left out)."""
    not_helpful = func.sum(case((FaqFeedback.helpful.is_(False), 1), else_=0))
    helpful = func.sum(case((FaqFeedback.helpful.is_(True), 1), else_=0))
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(FaqFeedback.faq_id, not_helpful, helpful).group_by(FaqFeedback.faq_id)
            )
        ).all()
    counts = [FeedbackCount(r[0], int(r[1] or 0), int(r[2] or 0)) for r in rows]
    return sorted(
        (c for c in counts if c.not_helpful), key=lambda c: (-c.not_helpful, c.helpful, c.faq_id)
    )


@dataclass(frozen=True)
class Dashboard:
    open_by_team: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # team -> (status, n)
    statuses: tuple[str, ...]
    open_total: int
    overdue: tuple[tuple[str, str, date, str], ...]  # reference, team, due date, status
    median_hours_to_complete: float | None
    completed_in_period: int
    weeks: tuple[tuple[date, int], ...]  # Monday of each week, requests made


async def dashboard(
    db: Database, today: date, *, weeks: int = 12, median_days: int = 90
) -> Dashboard:
    open_values = [s.value for s in OPEN_STATUSES]
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first_monday, time(0), tzinfo=ENGLAND)
    median_since = datetime.combine(today - timedelta(days=median_days), time(0), tzinfo=ENGLAND)
    async with db.transaction() as session:
        open_rows = (
            await session.execute(
                select(Ticket.reference, Route.specialty, Ticket.status, Ticket.due_date)
                .outerjoin(Route, Ticket.route_id == Route.id)
                .where(Ticket.status.in_(open_values))
                .order_by(Ticket.due_date, Ticket.reference)
            )
        ).all()
        made = (
            await session.scalars(select(Ticket.created_at).where(Ticket.created_at >= since))
        ).all()
        done = (
            await session.execute(
                select(Ticket.created_at, Ticket.completed_at).where(
                    Ticket.completed_at.is_not(None), Ticket.completed_at >= median_since
                )
            )
        ).all()
    statuses = tuple(s.value for s in TicketStatus if s in OPEN_STATUSES)
    by_team: dict[str, Counter[str]] = defaultdict(Counter)
    for row in open_rows:
        by_team[row.specialty or GENERAL_QUEUE][row.status] += 1
    open_by_team = tuple(
        (team, tuple((status, counts.get(status, 0)) for status in statuses))
        for team, counts in sorted(by_team.items())
    )
    overdue = tuple(
        (r.reference, r.specialty or GENERAL_QUEUE, r.due_date, r.status)
        for r in open_rows
        if r.due_date < today
    )
    per_week: Counter[date] = Counter()
    for created in made:
        day = local_date(created)
        per_week[day - timedelta(days=day.weekday())] += 1
    week_list = tuple(
        (first_monday + timedelta(weeks=i), per_week.get(first_monday + timedelta(weeks=i), 0))
        for i in range(weeks)
    )
    hours = [(c - s).total_seconds() / 3600 for s, c in done if c is not None]
    return Dashboard(
        open_by_team=open_by_team,
        statuses=statuses,
        open_total=len(open_rows),
        overdue=overdue,
        median_hours_to_complete=median(hours) if hours else None,
        completed_in_period=len(hours),
        weeks=week_list,
    )


def bar_chart(points: Sequence[tuple[date, int]], title: str) -> Markup:
    """A plain SVG bar chart, drawn on the server: no script, no library, readable by screen
    readers (a title, a description and a title on each bar)."""
    width, height, top, bottom, left = 640, 220, 20, 40, 30
    plot_height = height - top - bottom
    peak = max((n for _, n in points), default=0) or 1
    slot = (width - left) / max(len(points), 1)
    bar = slot * 0.7
    parts = [
        Markup(
            '<svg class="ed-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
            'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">'
        ).format(w=width, h=height),
        Markup('<title id="chart-title">{}</title>').format(title),
        Markup('<desc id="chart-desc">{}</desc>').format(
            "; ".join(f"week of {d:%-d %b}: {n}" for d, n in points)
        ),
        Markup('<line x1="{x}" y1="{y}" x2="{w}" y2="{y}" stroke="#4c6272"/>').format(
            x=left, y=top + plot_height, w=width
        ),
        Markup('<text x="0" y="{}">{}</text>').format(top + 4, peak),
        Markup('<text x="0" y="{}">0</text>').format(top + plot_height),
    ]
    for index, (monday, count) in enumerate(points):
        bar_height = plot_height * count / peak
        x = left + index * slot + (slot - bar) / 2
        y = top + plot_height - bar_height
        parts.append(
            Markup(
                '<rect class="ed-bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}">'
                "<title>Week of {}: {} request(s)</title></rect>"
            ).format(x, y, bar, bar_height, f"{monday:%-d %b %Y}", count)
        )
        if count:
            parts.append(
                Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>').format(
                    x + bar / 2, y - 4, count
                )
            )
        parts.append(
            Markup('<text x="{:.1f}" y="{}" text-anchor="middle">{}</text>').format(
                x + bar / 2, height - bottom + 16, f"{monday:%-d %b}"
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
