"""The values a ticket is made of, as the rest of the bot hands them to the ticket service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

__all__ = [
    "SYSTEM",
    "Actor",
    "ImpactAnswers",
    "ImpactUse",
    "MessageDirection",
    "Origin",
    "Person",
    "Purpose",
    "TicketDraft",
    "priority_for",
]


class Purpose(StrEnum):
    """Why the evidence is wanted; drives priority and the activity report."""

    DIRECT_PATIENT_CARE = "direct_patient_care"
    SERVICE_DEVELOPMENT = "service_development"
    RESEARCH = "research"
    TEACHING_EDUCATION = "teaching_education"
    POLICY_MANAGEMENT = "policy_management"
    AUDIT_QI = "audit_qi"
    OTHER = "other"


# Lower is more urgent. A search that informs a decision about a patient goes first; the rest
# are worked in due-date order.
_PRIORITIES: Final[dict[Purpose, int]] = {Purpose.DIRECT_PATIENT_CARE: 1}
_DEFAULT_PRIORITY: Final = 2


def priority_for(purpose: Purpose) -> int:
    return _PRIORITIES.get(purpose, _DEFAULT_PRIORITY)


class MessageDirection(StrEnum):
    TO_REQUESTER = "to_requester"
    FROM_REQUESTER = "from_requester"
    INTERNAL_NOTE = "internal_note"  # specialists only; never relayed to the requester
    DELIVERABLE = "deliverable"


class ImpactUse(StrEnum):
    """How the requester used what they were sent (they may tick several)."""

    PATIENT_CARE_DECISION = "patient_care_decision"
    SERVICE_CHANGE = "service_change"
    TEACHING = "teaching"
    RESEARCH = "research"
    POLICY = "policy"
    OTHER = "other"


@dataclass(frozen=True)
class Actor:
    """Who did something, as written in the audit trail and on messages.

    `key` is "platform:user_id" for a person, "specialist:<id>" for a specialist acting through
    the service (whichever platform they used), or "system" for the bot's own jobs.
    """

    key: str

    @classmethod
    def person(cls, platform: str, user_id: str) -> Actor:
        return cls(f"{platform}:{user_id}")

    @classmethod
    def specialist(cls, specialist_id: int) -> Actor:
        return cls(f"specialist:{specialist_id}")


SYSTEM: Final = Actor("system")


@dataclass(frozen=True)
class Person:
    """A requester on one platform."""

    platform: str
    user_id: str
    display_name: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor.person(self.platform, self.user_id)


@dataclass(frozen=True)
class Origin:
    """Where a request was made, so replies can go back to the same place."""

    platform: str
    channel_id: str
    thread_id: str | None = None


@dataclass(frozen=True)
class TicketDraft:
    """The intake form as the requester filled it in; free text is redacted on `create`."""

    requester: Person
    origin: Origin
    question: str
    purpose: Purpose
    deadline: date | None = None
    date_range: str | None = None
    population: str | None = None
    study_types: str | None = None
    key_papers: str | None = None
    output_format: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class ImpactAnswers:
    """One answer to "did it help, and how did you use it?" about a finished ticket."""

    respondent: Actor
    helped: bool
    how_used: frozenset[ImpactUse] = frozenset()
    time_saved_hours: float | None = None
    comment: str | None = None
