"""Raising escalations at a given moment: the server's scheduler, and `evidence-desk
escalations run [--now ...] [--dry-run]` for operators and tests, share this one path.

A dry run works out exactly what a real run would raise, in a transaction that is then
rolled back: nothing is recorded and nothing is sent.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.session import Database
from bot.desk.tickets.escalation import Escalation, due_escalations
from handlers.requests import RequestDesk


class _DryRun(Exception):
    """Raised inside the unit of work to roll it back, carrying what would have been raised."""

    def __init__(self, raised: list[Escalation]) -> None:
        super().__init__("dry run")
        self.raised = raised


async def run_escalations(
    db: Database,
    requests: RequestDesk,
    now: datetime,
    unclaimed_after_working_hours: float,
    *,
    dry_run: bool = False,
) -> list[Escalation]:
    """Record and send the escalations due at `now` (or, dry, only say which they are).
    Recorded and queued in one transaction: an escalation is never raised unsent."""
    try:
        async with db.unit_of_work():
            raised = await due_escalations(db, now, unclaimed_after_working_hours)
            for escalation in raised:
                await requests.escalate(escalation)
            if dry_run:
                raise _DryRun(raised)
    except _DryRun as dry:
        return dry.raised
    return raised
