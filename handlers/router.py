"""The core's front door: a neutral message in, a neutral reply out.

Every adapter (Slack, Teams, web chat, the terminal) calls `Router.handle`; none of them
decides anything about what the bot says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from bot.config import Settings
from bot.messages import IncomingMessage, Reply
from bot.privacy import PrivacyScanner
from handlers.classify import Classification, Classifier, Thresholds
from handlers.intents import ClinicalVocabulary
from handlers.replies import build_reply, faq_reply, too_long_reply
from handlers.semantic_intents import examples_for
from knowledge import SHIPPED_KB_DIR
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A reply together with the verdict behind it (for feedback, tickets and the CLI's JSON)."""

    reply: Reply
    classification: Classification | None


class Router:
    def __init__(
        self,
        store: KnowledgeStore,
        settings: Settings,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.store = store
        self.settings = settings
        self.scanner = PrivacyScanner(settings.hospital_number_pattern)
        clinical_file = Path(settings.kb_dir) / "clinical_terms.yaml"
        if not clinical_file.is_file():
            clinical_file = SHIPPED_KB_DIR / "clinical_terms.yaml"
        clinical = ClinicalVocabulary.from_file(clinical_file)
        self.classifier = Classifier(
            lambda: store.current,
            clinical,
            Thresholds(settings.answer_threshold, settings.suggest_threshold, settings.help_entry),
            today,
            examples_for(store.embedder) if store.embedder is not None else None,
        )

    def answer(self, text: str) -> Answer:
        """Classify and reply; over-long text is refused before any work, never truncated.

        Patient-identifiable details are found first and taken out of the text that is matched
        and quoted back (a search topic), and the sender gets a private warning.
        """
        if len(text) > self.settings.max_message_chars:
            return Answer(too_long_reply(len(text), self.settings.max_message_chars), None)
        findings = self.scanner.scan(text)
        if findings:
            text = self.scanner.redact(text, findings)
        result = self.classifier.classify(text)
        reply = build_reply(result, self.store.current.kb)
        if findings:
            reply = replace(reply, warning=self.scanner.describe(findings))
        return Answer(reply, result)

    async def handle(self, message: IncomingMessage) -> Reply:
        return self.answer(message.text).reply

    def show_faq(self, faq_id: str) -> Reply | None:
        """The reply for a suggestion button; None if the entry has since been removed."""
        entry = self.store.current.kb.get(faq_id)
        return faq_reply(entry, 1.0) if entry is not None else None
