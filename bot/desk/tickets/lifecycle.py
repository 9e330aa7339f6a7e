"""The ticket state machine: which status may follow which, and what to say when one may not.

Rules are written per action (claim, complete, reopen ...) because that is how people ask for a
change, and a refusal must say what they tried: "KLS-2026-00042 is completed; it cannot be
claimed. Reopen it first." `ALLOWED_TRANSITIONS` is the same rules as status pairs, for tests
and documentation.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from bot.errors import UserFacingError

__all__ = [
    "ALLOWED_TRANSITIONS",
    "FINISHED_STATUSES",
    "OPEN_STATUSES",
    "Action",
    "IllegalTransition",
    "TicketStatus",
    "check_transition",
    "sources",
    "target",
]


class TicketStatus(StrEnum):
    NEW = "new"
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    AWAITING_REQUESTER = "awaiting_requester"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The status in words, for messages to people."""
        return _LABELS[self]


_LABELS: Final[dict[TicketStatus, str]] = {
    TicketStatus.NEW: "new",
    TicketStatus.CLAIMED: "claimed",
    TicketStatus.IN_PROGRESS: "in progress",
    TicketStatus.AWAITING_REQUESTER: "waiting for the requester",
    TicketStatus.COMPLETED: "completed",
    TicketStatus.CLOSED: "closed",
    TicketStatus.CANCELLED: "cancelled",
}

# Work still to do: counted as a specialist's load and watched by escalation.
OPEN_STATUSES: Final = frozenset(
    {
        TicketStatus.NEW,
        TicketStatus.CLAIMED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.AWAITING_REQUESTER,
    }
)
FINISHED_STATUSES: Final = frozenset(
    {TicketStatus.COMPLETED, TicketStatus.CLOSED, TicketStatus.CANCELLED}
)
_WORKING: Final = frozenset(
    {TicketStatus.CLAIMED, TicketStatus.IN_PROGRESS, TicketStatus.AWAITING_REQUESTER}
)


class Action(StrEnum):
    CLAIM = "claim"
    UNCLAIM = "unclaim"
    START = "start"
    ASK_REQUESTER = "ask_requester"
    REQUESTER_REPLIED = "requester_replied"
    COMPLETE = "complete"
    CLOSE = "close"
    CANCEL = "cancel"
    REOPEN = "reopen"
    REASSIGN = "reassign"

    @property
    def done(self) -> str:
        """Past participle for "it cannot be ...", e.g. "claimed"."""
        return _DONE[self]


_DONE: Final[dict[Action, str]] = {
    Action.CLAIM: "claimed",
    Action.UNCLAIM: "unclaimed",
    Action.START: "started",
    Action.ASK_REQUESTER: "put on hold for the requester",
    Action.REQUESTER_REPLIED: "resumed",
    Action.COMPLETE: "completed",
    Action.CLOSE: "closed",
    Action.CANCEL: "cancelled",
    Action.REOPEN: "reopened",
    Action.REASSIGN: "reassigned",
}

# Where each action may start from.
_SOURCES: Final[dict[Action, frozenset[TicketStatus]]] = {
    Action.CLAIM: frozenset({TicketStatus.NEW}),
    Action.UNCLAIM: frozenset({TicketStatus.CLAIMED, TicketStatus.IN_PROGRESS}),
    Action.START: frozenset({TicketStatus.CLAIMED}),
    Action.ASK_REQUESTER: frozenset({TicketStatus.IN_PROGRESS}),
    Action.REQUESTER_REPLIED: frozenset({TicketStatus.AWAITING_REQUESTER}),
    Action.COMPLETE: _WORKING,
    Action.CLOSE: frozenset({TicketStatus.COMPLETED}),
    Action.CANCEL: OPEN_STATUSES,
    Action.REOPEN: FINISHED_STATUSES,
    Action.REASSIGN: OPEN_STATUSES,
}

_TARGETS: Final[dict[Action, TicketStatus]] = {
    Action.CLAIM: TicketStatus.CLAIMED,
    Action.UNCLAIM: TicketStatus.NEW,
    Action.START: TicketStatus.IN_PROGRESS,
    Action.ASK_REQUESTER: TicketStatus.AWAITING_REQUESTER,
    Action.REQUESTER_REPLIED: TicketStatus.IN_PROGRESS,
    Action.COMPLETE: TicketStatus.COMPLETED,
    Action.CLOSE: TicketStatus.CLOSED,
    Action.CANCEL: TicketStatus.CANCELLED,
}


def sources(action: Action) -> frozenset[TicketStatus]:
    """The statuses `action` may be taken from."""
    return _SOURCES[action]


def target(action: Action, current: TicketStatus, *, assigned: bool) -> TicketStatus:
    """Where `action` leads from `current`.

    Reopening returns work to its assignee, or to the queue if it never had one. Reassigning
    keeps the status, except that giving a new ticket to someone claims it for them.
    """
    if action is Action.REOPEN:
        return TicketStatus.IN_PROGRESS if assigned else TicketStatus.NEW
    if action is Action.REASSIGN:
        return TicketStatus.CLAIMED if current is TicketStatus.NEW else current
    return _TARGETS[action]


def _all_transitions() -> frozenset[tuple[TicketStatus, TicketStatus]]:
    pairs: set[tuple[TicketStatus, TicketStatus]] = set()
    for action, starts in _SOURCES.items():
        for start in starts:
            for assigned in (False, True):
                end = target(action, start, assigned=assigned)
                if end is not start:
                    pairs.add((start, end))
    return frozenset(pairs)


ALLOWED_TRANSITIONS: Final = _all_transitions()


class IllegalTransition(UserFacingError):
    """An action the ticket's current status does not allow; the message says why and what next.

    Safe to show as is: it names only the reference (which the bot generated), statuses and
    a specialist's display name, never anything the requester typed.
    """

    def __init__(
        self,
        reference: str,
        status: TicketStatus,
        action: Action,
        *,
        assignee_name: str | None = None,
    ) -> None:
        self.reference = reference
        self.status = status
        self.action = action
        super().__init__(_explain(reference, status, action, assignee_name))


def _explain(
    reference: str, status: TicketStatus, action: Action, assignee_name: str | None
) -> str:
    if action is Action.CLAIM and status in _WORKING:
        by = f" by {assignee_name}" if assignee_name else ""
        return f"{reference} has already been claimed{by}."
    message = f"{reference} is {status.label}; it cannot be {action.done}."
    if status in FINISHED_STATUSES and action is not Action.REOPEN:
        message += " Reopen it first."
    elif status is TicketStatus.NEW and action in {Action.START, Action.COMPLETE, Action.UNCLAIM}:
        message += " Claim it first."
    elif action is Action.REOPEN:
        message += " It is still open."
    return message


def check_transition(
    reference: str,
    status: TicketStatus,
    action: Action,
    *,
    assigned: bool,
    assignee_name: str | None = None,
) -> TicketStatus:
    """Return the status `action` leads to from `status`, or raise IllegalTransition."""
    if status not in _SOURCES[action]:
        raise IllegalTransition(reference, status, action, assignee_name=assignee_name)
    return target(action, status, assigned=assigned)
