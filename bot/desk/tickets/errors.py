"""Ticket errors a person can act on. Their messages never quote what the person typed."""

from __future__ import annotations

from bot.errors import UserFacingError

__all__ = ["BadReference", "SpecialistNotFound", "TicketNotFound", "TicketRefused"]


class BadReference(UserFacingError):
    """Text that is not shaped like a ticket reference (so it is not echoed back)."""

    def __init__(self, prefix: str) -> None:
        super().__init__(f"That is not a ticket reference; they look like {prefix}-2026-00042.")


class TicketNotFound(UserFacingError):
    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(f"There is no ticket {reference}.")


class SpecialistNotFound(UserFacingError):
    def __init__(self, specialist_id: int, *, inactive: bool = False) -> None:
        self.specialist_id = specialist_id
        state = "is no longer active" if inactive else "does not exist"
        super().__init__(f"Specialist {specialist_id} {state}.")


class TicketRefused(UserFacingError):
    """A request the ticket cannot take in its state that is not a status change as such."""
