"""Decide what a message is: an FAQ (and which), a search request, smalltalk or unknown.

The order matters and is the whole policy: urgent-care signs first (an emergency or a risk to
life is signposted before anything else), smalltalk (cheap, unambiguous), explicit requests for
evidence, questions about treating a patient (a dose, a lab value, a drug, "should I give": never
answered from the KB, whatever library words they use), then the FAQ index, then other clinical
questions (which must never be answered from the KB either), then "did you mean" suggestions,
then unknown. A clinical question always ends as the offer of a search request, never a bare
"can't help".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from bot.messages import Intent
from handlers.deadlines import find_deadline, resolve_deadline
from handlers.intents import (
    ClinicalVocabulary,
    find_search_request,
    is_help_request,
    is_smalltalk,
    strip_greeting,
)
from handlers.semantic_intents import IntentExamples, Kind, mask_topic, request_topic
from handlers.urgent import Urgency, UrgentSigns
from knowledge.index import Match
from knowledge.markup import clean_markup
from knowledge.store import KnowledgeSnapshot

_SENTENCES = re.compile(r"(?<=[.?!])\s+|\n+|\s+[-\u2013]\s+")
MAX_SUGGESTIONS = 3
#: An out-of-scope topic scoring this share of the best FAQ's score wins the tie.
OUT_OF_SCOPE_TIE = 0.9
#: Distinct clinical words that make a message clearly clinical ...
STRONGLY_CLINICAL = 2
#: ... in which case an FAQ needs this score to be the answer rather than a search request.
CLINICAL_OVERRIDE_SCORE = 0.4
#: A message worded like a request for evidence (by meaning) is one unless an FAQ scores this.
MEANING_OVER_FAQ = 0.35


@dataclass(frozen=True)
class Thresholds:
    answer: float
    suggest: float
    help_entry: str = "bot-help"


@dataclass(frozen=True)
class Classification:
    """The core's verdict on one message; the reply and the ticket flow are built from it."""

    intent: Intent
    text: str
    faq_id: str | None = None
    score: float = 0.0
    suggestions: tuple[str, ...] = ()
    topic: str | None = None
    deadline_text: str | None = None
    deadline: date | None = None
    redirect: str | None = None
    #: A search request inferred from a clinical question rather than asked for in words.
    inferred: bool = False
    #: About treating a patient (a dose, a lab value, a drug ...), even when asked as a request.
    patient_care: bool = False
    #: An emergency or a risk to life: the reply is urgent-care signposting, nothing else.
    urgency: Urgency | None = None
    matches: tuple[Match, ...] = field(default=(), repr=False)


class Classifier:
    def __init__(
        self,
        snapshot: Callable[[], KnowledgeSnapshot],
        clinical: ClinicalVocabulary,
        thresholds: Thresholds,
        today: Callable[[], date] = date.today,
        urgent: UrgentSigns | None = None,
        meaning: IntentExamples | None = None,
    ) -> None:
        self._meaning = meaning
        self._snapshot = snapshot
        self._clinical = clinical
        self._urgent = urgent
        self.thresholds = thresholds
        self._today = today

    @staticmethod
    def _searched(text: str) -> list[str]:
        """The texts the index is searched with: the whole message and each of its sentences."""
        parts = [p for p in _SENTENCES.split(text) if len(p.split()) >= 2]
        return [text] if len(parts) <= 1 else [text, *parts]

    def texts_to_embed(self, raw_text: str) -> list[str]:
        """The texts `classify` will want embedded for this message, as far as that can be
        told without scoring it, so that the messages answered together are embedded in one
        batch (see `EvidenceDesk.prepare`). It follows `classify`'s early returns; a text it
        leaves out is embedded when it is needed, one it adds is a wasted embedding."""
        text = clean_markup(raw_text)
        if self._urgent is not None and self._urgent.detect(text) is not None:
            return []
        body = strip_greeting(text)
        if not body or is_smalltalk(body) or is_help_request(body):
            return []
        if find_search_request(body) is not None:
            return [mask_topic(body)] if self._meaning is not None else []
        if self._clinical.patient_care(body) is not None:
            return []
        return self._searched(body)

    def _best_matches(self, snapshot: KnowledgeSnapshot, text: str) -> list[Match]:
        """Match the whole message and each sentence; a question after a preamble still wins."""
        searched = self._searched(text)
        if len(searched) == 1:
            return snapshot.index.search(text, limit=6)
        # One call for all of them: the hybrid index embeds them in one batch.
        found = snapshot.index.search_many(searched, limit=6)
        best: dict[str, Match] = {}
        for m in (m for group in found for m in group):
            if m.target.id not in best or best[m.target.id].score < m.score:
                best[m.target.id] = m
        return sorted(best.values(), key=lambda m: -m.score)

    def classify(self, raw_text: str) -> Classification:
        text = clean_markup(raw_text)
        urgency = self._urgent.detect(text) if self._urgent is not None else None
        if urgency is not None:
            return Classification(Intent.URGENT, text, urgency=urgency)
        body = strip_greeting(text)
        if not body:
            intent = Intent.SMALLTALK if text else Intent.UNKNOWN
            return Classification(intent, text)
        if is_smalltalk(body):
            return Classification(Intent.SMALLTALK, text)
        snapshot = self._snapshot()
        if is_help_request(body) and snapshot.kb.get(self.thresholds.help_entry):
            return Classification(Intent.FAQ, text, self.thresholds.help_entry, 1.0)

        signal = find_search_request(body)
        # Where the grammar is brittle, meaning decides (semantic_intents): a question about the
        # search service is not a request, even in a request's words ...
        meaning = self._meaning
        if signal is not None and (
            meaning is None or meaning.judge(body).kind is not Kind.SERVICE_QUESTION
        ):
            # Asked for in words, but about one patient: still "I can't advise" first.
            request = self._search_request(text, signal.topic, signal.deadline_text)
            return replace(request, patient_care=self._clinical.about_one_patient(body))
        if self._clinical.patient_care(body) is not None:
            return replace(self._clinical_question(text, body), patient_care=True)

        matches = self._best_matches(snapshot, body)
        in_scope = [m for m in matches if m.target.in_scope]
        outside = next((m for m in matches if not m.target.in_scope), None)
        best = in_scope[0] if in_scope else None
        # A near tie with another service's topic goes to that service: redirecting someone
        # costs them a click, a confidently wrong library answer costs their trust.
        if (
            outside is not None
            and outside.score >= self.thresholds.suggest
            and (best is None or outside.score >= OUT_OF_SCOPE_TIE * best.score)
        ):
            topic = next(t for t in snapshot.kb.out_of_scope if t.id == outside.target.id)
            return Classification(
                Intent.UNKNOWN, text, score=outside.score, redirect=topic.redirect,
                matches=tuple(matches),
            )  # fmt: skip
        # ... and a request without "find" or "search" is one, when it names a subject ("what's
        # known about X for our meeting") and no FAQ matches it strongly.
        if (
            signal is None
            and meaning is not None
            and (best is None or best.score < MEANING_OVER_FAQ)
            and meaning.judge(body).kind is Kind.REQUEST
        ):
            deadline_text, rest = find_deadline(body)
            subject = request_topic(rest)
            if subject is not None:
                return self._search_request(text, subject, deadline_text)
        clinical = self._clinical.clinical_strength(body)
        if best is not None and best.score >= self.thresholds.answer:
            # A clearly clinical question that only brushes an FAQ ("...improve outcomes?")
            # is an evidence question; the FAQ must then match strongly to win.
            if clinical < STRONGLY_CLINICAL or best.score >= CLINICAL_OVERRIDE_SCORE:
                return Classification(
                    Intent.FAQ, text, best.target.id, best.score, matches=tuple(matches)
                )
        if self._clinical.is_clinical_question(body):
            return self._clinical_question(text, body)
        suggestions = tuple(
            m.target.id for m in in_scope[:MAX_SUGGESTIONS] if m.score >= self.thresholds.suggest
        )
        score = best.score if best is not None else 0.0
        return Classification(
            Intent.UNKNOWN, text, score=score, suggestions=suggestions, matches=tuple(matches)
        )

    def _clinical_question(self, text: str, body: str) -> Classification:
        """Not answered: offered as a search request, the question itself as the topic."""
        deadline_text, rest = find_deadline(body)
        return replace(
            self._search_request(text, rest.rstrip(" ?.!"), deadline_text), inferred=True
        )

    def _search_request(self, text: str, topic: str, deadline_text: str | None) -> Classification:
        deadline = resolve_deadline(deadline_text, self._today()) if deadline_text else None
        return Classification(
            Intent.SEARCH_REQUEST, text, topic=topic, deadline_text=deadline_text, deadline=deadline
        )
