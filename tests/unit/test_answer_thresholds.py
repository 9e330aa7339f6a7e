"""The two thresholds of the answerer (handlers/answers.py): when to answer, when to suggest."""

from __future__ import annotations

from bot.messages import Intent
from handlers.answers import Answerer
from handlers.classify import Thresholds


def test_grey_zone_offers_at_most_three_suggestions(answerer: Answerer) -> None:
    classifier = answerer.classifier
    original = classifier.thresholds
    try:
        # Nothing is close enough to answer, everything near enough to suggest: a grey zone
        # with many candidates, whatever the KB's wording and the matcher's scores.
        classifier.thresholds = Thresholds(answer=1.0, suggest=0.01)
        answer = answerer.answer("library account access")
        assert answer.classification is not None
        near = [m for m in answer.classification.matches if m.score >= 0.01]
        assert answer.reply.intent is Intent.UNKNOWN and len(near) > 3  # in the grey zone
        assert len(answer.reply.suggestions) == 3
    finally:
        classifier.thresholds = original


def test_raising_the_answer_threshold_turns_an_answer_into_suggestions(
    answerer: Answerer,
) -> None:
    classifier = answerer.classifier
    original = classifier.thresholds
    try:
        classifier.thresholds = Thresholds(answer=1.0, suggest=0.05)
        result = classifier.classify("athens password reset")
        assert result.intent is Intent.UNKNOWN
        assert "openathens-forgotten-password" in result.suggestions
    finally:
        classifier.thresholds = original
