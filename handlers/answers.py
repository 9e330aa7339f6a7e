"""What the bot says to a message from its knowledge base alone: no database, no tickets.

The desk (handlers/desk.py, the core's front door for every adapter) asks this first for any
message that is not a relay or a command; listening mode asks it whether to speak unasked, and
`evidence-desk ask` and the answer benchmarks use it on its own, since it needs nothing but
the KB and the matcher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from bot.config import Settings
from bot.desk.privacy import PrivacyScanner
from bot.messages import Reply
from handlers.classify import Classification, Classifier, Thresholds
from handlers.intents import ClinicalVocabulary
from handlers.replies import build_reply, faq_reply, too_long_reply, urgent_reply
from handlers.semantic_intents import examples_for
from handlers.urgent import UrgentSigns
from knowledge import SHIPPED_KB_DIR
from knowledge.markup import clean_markup
from knowledge.store import KnowledgeStore
from knowledge.urgent import load_urgent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A reply together with the verdict behind it (for feedback, tickets and the CLI's JSON)."""

    reply: Reply
    classification: Classification | None


class Answerer:
    def __init__(
        self,
        store: KnowledgeStore,
        settings: Settings,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.store = store
        self.settings = settings
        self.scanner = PrivacyScanner(settings.hospital_number_pattern)
        clinical = ClinicalVocabulary.from_file(
            self._kb_file(settings, "clinical_terms.yaml"), settings.cache_dir
        )
        # Read once at start, like the clinical terms: an unusable file stops the bot.
        self.urgent = UrgentSigns(load_urgent(self._kb_file(settings, "urgent.yaml")))
        self.classifier = Classifier(
            lambda: store.current,
            clinical,
            Thresholds(settings.answer_threshold, settings.suggest_threshold, settings.help_entry),
            today,
            self.urgent,
            examples_for(store.embedder) if store.embedder is not None else None,
        )

    @staticmethod
    def _kb_file(settings: Settings, name: str) -> Path:
        """The KB folder's own copy of a file, or the shipped one when the folder has none."""
        path = Path(settings.kb_dir) / name
        return path if path.is_file() else SHIPPED_KB_DIR / name

    def answer(self, text: str) -> Answer:
        """Classify and reply; over-long text is refused before any work, never truncated.

        Patient-identifiable details are found first and taken out of the text that is matched
        and quoted back (a search topic), and the sender gets a private warning.
        """
        if len(text) > self.settings.max_message_chars:
            # Even a message too long to read in full is checked for an emergency first.
            urgency = self.urgent.detect(text)
            if urgency is not None:
                return Answer(urgent_reply(urgency, self.urgent.guide), None)
            return Answer(too_long_reply(len(text), self.settings.max_message_chars), None)
        findings = self.scanner.scan(text)
        if findings:
            text = self.scanner.redact(text, findings)
        result = self.classifier.classify(text)
        reply = build_reply(result, self.store.current.kb, self.urgent.guide)
        if findings:
            reply = replace(reply, warning=self.scanner.describe(findings))
        return Answer(reply, result)

    def prepare(self, texts: Sequence[str]) -> None:
        """Embed, in one batch, what answering each of these messages will embed, so that
        `answer` finds the vectors ready (the embedder keeps recent ones). Run in a worker
        thread by the inbox: the model releases the GIL, so acknowledgements go on meanwhile,
        and one batch of N costs less than N runs. Only an optimisation: `answer` gives the
        same reply without it."""
        embedder = self.store.embedder
        if embedder is None:
            return
        wanted: list[str] = []
        for text in texts:
            if len(text) > self.settings.max_message_chars:
                continue
            findings = self.scanner.scan(text)
            if findings:
                text = self.scanner.redact(text, findings)
            wanted.extend(self.classifier.texts_to_embed(text))
        if wanted:
            embedder.encode_fresh(list(dict.fromkeys(wanted)))

    def signposting(self, text: str) -> Reply | None:
        """The urgent-care reply if the text describes an emergency or a risk to life: for the
        paths that do not classify (a requester's reply relayed to a specialist)."""
        urgency = self.urgent.detect(clean_markup(text))
        return urgent_reply(urgency, self.urgent.guide) if urgency is not None else None

    def show_faq(self, faq_id: str) -> Reply | None:
        """The reply for a suggestion button; None if the entry has since been removed."""
        entry = self.store.current.kb.get(faq_id)
        return faq_reply(entry, 1.0) if entry is not None else None
