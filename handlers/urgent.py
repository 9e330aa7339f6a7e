"""Recognising a message that describes an emergency or a risk to life, before anything else.

The signs and the words that change the verdict live in knowledge/urgent.yaml, where the clinical
owner reviews them; this module only reads them. The balance it keeps: a request about a topic
("evidence on chest pain assessment", "training on anaphylaxis") is not an emergency, but as soon
as a message says a person is in danger now, or someone speaks of ending their own life, it is,
whatever else it says. When in doubt it signposts: an unneeded 999 line costs a glance, a
missing one can cost a life.
"""

from __future__ import annotations

import re
from enum import StrEnum

from knowledge.urgent import UrgentGuide

_APOSTROPHES = re.compile(r"['\u2018\u2019`]")
_SEPARATORS = re.compile(r"[^a-z0-9+/]+")
#: Messages about a patient already in someone's care on a ward ("bed 9 c/o chest pain").
_IN_CARE = re.compile(
    r"\b(?:bed|bay|cubicle|side\s+room)\s*\d+|\bc/o\b|\bpt\b|\bpatients?\b|\bobs\b|\bward\b"
)


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    MENTAL_HEALTH = "mental_health"


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, hyphens and punctuation as spaces: "Can't" = "cant"."""
    return " ".join(_SEPARATORS.sub(" ", _APOSTROPHES.sub("", text.lower())).split())


def _phrase_pattern(phrase: str) -> str:
    """A sign as a regex over normalised text: whole words, "*" any ending, "~" up to 3 words."""
    parts = []
    for piece in phrase.split():
        if piece == "~":
            parts.append(r"(?:\S+\s+){0,3}?")
            continue
        words = normalise(piece.rstrip("*")).split()
        tail = r"[a-z0-9]*" if piece.endswith("*") else ""
        parts.extend(re.escape(word) + (tail if i == len(words) - 1 else "") + r"\s+"
                     for i, word in enumerate(words))  # fmt: skip
    return r"\b" + "".join(parts).removesuffix(r"\s+") + r"(?![a-z0-9])"


def _compile(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{_phrase_pattern(p)})" for p in phrases))


class UrgentSigns:
    def __init__(self, guide: UrgentGuide) -> None:
        self.guide = guide
        self._emergency = _compile(guide.emergency_signs)
        self._first_person = _compile(guide.first_person)
        self._mental = _compile(guide.mental_health_signs)
        self._library = _compile(guide.library_words)
        self._danger = _compile(guide.danger_now)

    def detect(self, text: str) -> Urgency | None:
        """Which urgent reply the message needs, or None."""
        plain = normalise(text)
        if self._first_person.search(plain):
            return Urgency.MENTAL_HEALTH
        mental = self._mental.search(plain) is not None
        emergency = self._emergency.search(plain) is not None
        if not (mental or emergency):
            return None
        if self._library.search(plain) and not self._danger.search(plain):
            return None
        return Urgency.MENTAL_HEALTH if mental else Urgency.EMERGENCY

    def own_crisis(self, text: str) -> bool:
        """Someone speaking of ending or harming their own life ("I want to end it all")."""
        return self._first_person.search(normalise(text)) is not None

    @staticmethod
    def about_patient_in_care(text: str) -> bool:
        """A ward colleague's message about a patient ("bed 9 c/o chest pain"): the team is the
        response, so listening mode does not interrupt it with 999 (asked, the bot still does)."""
        return bool(_IN_CARE.search(text.lower()))

    def reply_text(self, urgency: Urgency) -> str:
        if urgency is Urgency.MENTAL_HEALTH:
            return self.guide.mental_health_reply
        return self.guide.emergency_reply
