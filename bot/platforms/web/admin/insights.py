"""The learning loop (what the KB could not answer, and answers people found unhelpful) and
the tickets dashboard with its CSV report."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from bot.desk.accounts import Session
from bot.desk.insights import bar_chart, dashboard, feedback_counts, group_questions
from bot.desk.tickets.report import build_report
from bot.keys import DATABASE, DESK, KNOWLEDGE
from bot.platforms.web.admin.common import ADMIN, page, protected


async def learning(request: web.Request, session: Session) -> web.Response:
    snapshot = request.app[KNOWLEDGE].current
    normalizer = snapshot.index.normalizer
    unanswered = await request.app[DESK].feedback.unanswered(limit=500)
    groups = group_questions(unanswered, lambda text: normalizer.terms(text, correct=False))
    counts = await feedback_counts(request.app[DATABASE])
    return page(
        request,
        session,
        "admin/learning.html",
        groups=groups[:100],
        feedback=counts,
        entries=snapshot.kb.entries,
        titles={e.id: e.title for e in snapshot.kb.entries},
    )


async def tickets(request: web.Request, session: Session) -> web.Response:
    today = request.app[ADMIN].today()
    summary = await dashboard(request.app[DATABASE], today)
    return page(
        request,
        session,
        "admin/tickets.html",
        summary=summary,
        chart=bar_chart(summary.weeks, "Requests made per week, last 12 weeks"),
        default_from=(today - timedelta(days=90)).isoformat(),
        default_to=today.isoformat(),
    )


async def report_csv(request: web.Request, session: Session) -> web.Response:
    try:
        start = date.fromisoformat(request.query["from"])
        end = date.fromisoformat(request.query["to"])
        report = await build_report(request.app[DATABASE], start, end)
    except (KeyError, ValueError) as exc:
        raise web.HTTPBadRequest(
            text="Give from and to as dates (YYYY-MM-DD), from no later than to."
        ) from exc
    return web.Response(
        text=report.to_csv(),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-desk-report-{start}-to-{end}.csv"'
        },
    )


def add_insight_routes(app: web.Application) -> None:
    app.router.add_get("/admin/learning", protected(learning))
    app.router.add_get("/admin/tickets", protected(tickets))
    app.router.add_get("/admin/tickets/report.csv", protected(report_csv))
