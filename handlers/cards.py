"""The messages that carry a ticket's buttons: the specialist's card and the escalation
reminders about it.

Both are re-rendered in place whenever the ticket changes (see `TicketNotices.refresh_card` in
handlers/notices.py), so they are made here, from a `TicketView` alone, by pure functions: the
same ticket always gives the same text and buttons, and no message offers a step the ticket
has moved past. Neutral `Reply`/`Button` only; each adapter draws them its own way.
"""

from __future__ import annotations

from datetime import datetime

from bot.desk.tickets.escalation import EscalationKind
from bot.desk.tickets.lifecycle import FINISHED_STATUSES, OPEN_STATUSES, TicketStatus
from bot.desk.tickets.views import TicketView
from bot.messages import Button, Intent, Reply
from handlers.actions import ASK, CANCEL, CLAIM, COMPLETE, NOTE, REASSIGN, REOPEN, STRATEGY, UPDATE
from handlers.intake import PURPOSES
from handlers.wording import person_label, wording

_PURPOSE_LABELS = {c.value: c.label for c in PURPOSES}
_STATUS_LABELS = {
    TicketStatus.NEW: "New: waiting for a specialist",
    TicketStatus.CLAIMED: "Claimed",
    TicketStatus.IN_PROGRESS: "In progress",
    TicketStatus.AWAITING_REQUESTER: "Waiting for the requester",
    TicketStatus.COMPLETED: "Completed",
    TicketStatus.CLOSED: "Closed",
    TicketStatus.CANCELLED: "Cancelled",
}
_WORKING = frozenset(
    {TicketStatus.CLAIMED, TicketStatus.IN_PROGRESS, TicketStatus.AWAITING_REQUESTER}
)


def when(moment: datetime) -> str:
    """A moment as people say it ("Monday 3 March at 09:00")."""
    return f"{moment:%A} {moment.day} {moment:%B} at {moment:%H:%M}"


def card(ticket: TicketView) -> Reply:
    """The ticket as specialists see it; re-rendered in place whenever it changes."""
    lines = [
        f"**{ticket.reference}**: {ticket.question}",
        f"Purpose: {_PURPOSE_LABELS.get(ticket.purpose.value, ticket.purpose.value)}"
        + ("  (patient care: priority)" if ticket.priority == 1 else ""),
        f"Due: {ticket.due_date:%a %-d %b %Y}"
        + (f" (requester's deadline {ticket.deadline:%-d %b})" if ticket.deadline else ""),
        f"From: {person_label(ticket.requester.display_name, ticket.requester.platform)}"
        f" ({wording(ticket.requester.platform).platform_name})",
        f"Status: {_status(ticket)}",
    ]
    for label, value in (
        ("Years", ticket.date_range),
        ("Population", ticket.population),
        ("Evidence types", ticket.study_types),
        ("Known papers", ticket.key_papers),
        ("Output", ticket.output_format),
        ("Notes", ticket.notes),
    ):
        if value:
            lines.append(f"{label}: {value}")
    return Reply(
        text="\n".join(lines),
        intent=Intent.SEARCH_REQUEST,
        title=ticket.reference,
        buttons=actions(ticket),
    )


def actions(ticket: TicketView) -> tuple[Button, ...]:
    """Every step a specialist can take on the ticket as it is now (the same buttons on
    the card, in escalation messages and in the web specialist view)."""
    ref, status = ticket.reference, ticket.status
    buttons: list[Button] = []
    if status is TicketStatus.NEW:
        buttons.append(Button("Claim", CLAIM, ref, "primary"))
    if status in _WORKING:
        buttons += [
            Button("Ask requester", ASK, ref),
            Button("Send update", UPDATE, ref),
            Button("Complete", COMPLETE, ref, "primary"),
        ]
    if status in OPEN_STATUSES:
        buttons.append(Button("Search strategy starter", STRATEGY, ref))
    if status in OPEN_STATUSES:
        # Unclaiming is one of its choices ("back to the queue"): a Teams card shows at
        # most six actions side by side (the rest go to its "..." menu: bot/platforms/teams/cards.py).
        buttons.append(Button("Reassign", REASSIGN, ref))
    buttons.append(Button("Add note", NOTE, ref))
    if status in OPEN_STATUSES:
        buttons.append(Button("Cancel request", CANCEL, ref, "danger"))
    if status in FINISHED_STATUSES:
        buttons.append(Button("Reopen", REOPEN, ref))
    return tuple(buttons)


def escalation_reply(kind: EscalationKind, ticket: TicketView) -> Reply:
    """An unclaimed / due tomorrow / overdue reminder, with the card's buttons; once the
    ticket has moved on, re-rendered to say where it is now."""
    ref, due = ticket.reference, ticket.due_date
    text = {
        EscalationKind.UNCLAIMED: f"**{ref}** has not been claimed yet. Can someone take it?",
        EscalationKind.DUE_TOMORROW: f"Reminder: **{ref}** is due {due:%A %-d %B}.",
        EscalationKind.OVERDUE: f"**{ref}** is overdue (it was due {due:%-d %B}).",
    }[kind]
    if not ticket.is_open or (
        kind is EscalationKind.UNCLAIMED and ticket.status is not TicketStatus.NEW
    ):
        text += f"\nNow: {_status(ticket)}"
    return Reply(text=text, intent=Intent.SEARCH_REQUEST, buttons=actions(ticket))


def _status(ticket: TicketView) -> str:
    return _STATUS_LABELS[ticket.status] + (
        f" by {ticket.assignee_name}" if ticket.assignee_name else ""
    )
