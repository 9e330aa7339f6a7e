"""The state machine's rules and refusals, without a database."""

from __future__ import annotations

import pytest

from bot.desk.tickets.lifecycle import (
    ALLOWED_TRANSITIONS,
    Action,
    IllegalTransition,
    TicketStatus,
    check_transition,
)
from bot.errors import UserFacingError

S = TicketStatus
SPECIFIED = {
    (S.NEW, S.CLAIMED),
    (S.CLAIMED, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.AWAITING_REQUESTER),
    (S.AWAITING_REQUESTER, S.IN_PROGRESS),
    (S.CLAIMED, S.COMPLETED),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.AWAITING_REQUESTER, S.COMPLETED),
    (S.COMPLETED, S.CLOSED),
    (S.NEW, S.CANCELLED),
    (S.CLAIMED, S.CANCELLED),
    (S.IN_PROGRESS, S.CANCELLED),
    (S.AWAITING_REQUESTER, S.CANCELLED),
    (S.COMPLETED, S.IN_PROGRESS),
    (S.CLOSED, S.IN_PROGRESS),
    (S.CANCELLED, S.IN_PROGRESS),
    (S.COMPLETED, S.NEW),
    (S.CLOSED, S.NEW),
    (S.CANCELLED, S.NEW),
    (S.CLAIMED, S.NEW),
    (S.IN_PROGRESS, S.NEW),
}


def test_allowed_transitions_are_exactly_the_specified_ones() -> None:
    assert ALLOWED_TRANSITIONS == SPECIFIED


def test_reopen_goes_to_in_progress_when_assigned_and_new_when_not() -> None:
    ref = "KLS-2026-00001"
    assert check_transition(ref, S.CLOSED, Action.REOPEN, assigned=True) is S.IN_PROGRESS
    assert check_transition(ref, S.CANCELLED, Action.REOPEN, assigned=False) is S.NEW


def test_claiming_a_completed_ticket_says_to_reopen_it_first() -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition("KLS-2026-00042", S.COMPLETED, Action.CLAIM, assigned=True)
    assert (
        str(raised.value) == "KLS-2026-00042 is completed; it cannot be claimed. Reopen it first."
    )


def test_illegal_transition_is_a_user_facing_error() -> None:
    assert issubclass(IllegalTransition, UserFacingError)


def test_claiming_a_claimed_ticket_names_who_has_it() -> None:
    with pytest.raises(
        IllegalTransition, match=r"^KLS-2026-00042 has already been claimed by Ann\.$"
    ):
        check_transition(
            "KLS-2026-00042", S.IN_PROGRESS, Action.CLAIM, assigned=True, assignee_name="Ann"
        )


def test_completing_a_new_ticket_says_to_claim_it_first() -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition("KLS-2026-00042", S.NEW, Action.COMPLETE, assigned=False)
    assert str(raised.value) == "KLS-2026-00042 is new; it cannot be completed. Claim it first."


def test_reopening_an_open_ticket_says_it_is_still_open() -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition("KLS-2026-00042", S.IN_PROGRESS, Action.REOPEN, assigned=True)
    assert str(raised.value) == (
        "KLS-2026-00042 is in progress; it cannot be reopened. It is still open."
    )
