"""The core, end to end on the shipped KB and the real matcher, read as a dialogue."""

from __future__ import annotations

import pytest

from bot.messages import Intent
from handlers.answers import Answerer


def test_forgotten_athens_password_gets_the_password_answer(answerer: Answerer) -> None:
    reply = answerer.answer("forgot my athens password").reply
    assert reply.faq_id == "openathens-forgotten-password"


def test_every_faq_answer_carries_its_source_link(answerer: Answerer) -> None:
    reply = answerer.answer("how do I get an OpenAthens account?").reply
    assert reply.intent is Intent.FAQ
    assert reply.sources
    assert all(s.url.startswith("https://") for s in reply.sources)


def test_faq_answer_offers_feedback_and_a_librarian(answerer: Answerer) -> None:
    labels = [b.label for b in answerer.answer("library opening hours").reply.buttons]
    assert labels == ["Helpful", "Not helpful", "Ask a librarian"]


def test_typos_and_lower_case_still_match(answerer: Answerer) -> None:
    assert (
        answerer.answer("i forgot my openathens pasword").reply.faq_id
        == "openathens-forgotten-password"
    )


def test_abbreviation_is_understood(answerer: Answerer) -> None:
    assert answerer.answer("how do I request an ILL").reply.faq_id == "document-supply"


def test_question_after_a_greeting_is_answered(answerer: Answerer) -> None:
    reply = answerer.answer(
        "Hi team, hope you're well! Quick one - when is the library open?"
    ).reply
    assert reply.faq_id == "library-opening-hours"


def test_slack_mention_markup_does_not_disturb_matching(answerer: Answerer) -> None:
    assert (
        answerer.answer("<@U0BOT123> reset athens password").reply.faq_id
        == "openathens-forgotten-password"
    )


def test_site_placeholders_are_filled_in_answers(answerer: Answerer) -> None:
    reply = answerer.answer("how do I contact the library").reply
    assert reply.faq_id == "library-contact"
    assert "{{" not in reply.text


def test_request_for_evidence_is_a_search_request_with_topic(answerer: Answerer) -> None:
    reply = answerer.answer("can you find papers on falls prevention in care homes?").reply
    assert reply.intent is Intent.SEARCH_REQUEST
    assert reply.prefill is not None
    assert reply.prefill.topic == "falls prevention in care homes"


def test_search_request_keeps_its_deadline_words(answerer: Answerer) -> None:
    reply = answerer.answer("lit search on pressure ulcer prevention by Friday please").reply
    assert reply.prefill is not None
    assert reply.prefill.topic == "pressure ulcer prevention"
    assert reply.prefill.deadline_text == "by Friday"
    assert reply.prefill.deadline is not None


def test_question_about_the_search_service_is_an_faq(answerer: Answerer) -> None:
    reply = answerer.answer("how do I ask the library for a literature search?").reply
    assert reply.faq_id == "literature-search-service"


def test_clinical_question_becomes_a_search_request_not_an_answer(answerer: Answerer) -> None:
    reply = answerer.answer("does early mobilisation reduce delirium in older inpatients?").reply
    assert reply.intent is Intent.SEARCH_REQUEST
    assert reply.faq_id is None


@pytest.mark.parametrize("text", ["hello", "thanks!", "cheers, that was really helpful"])
def test_greetings_and_thanks_are_smalltalk(answerer: Answerer, text: str) -> None:
    assert answerer.answer(text).reply.intent is Intent.SMALLTALK


@pytest.mark.parametrize(
    "text",
    ["how do I book annual leave", "the ward printer is jammed", "where can I park my car"],
)
def test_out_of_scope_questions_are_unknown_not_faq(answerer: Answerer, text: str) -> None:
    assert answerer.answer(text).reply.intent is Intent.UNKNOWN


def test_unknown_reply_says_how_to_reach_the_library(answerer: Answerer) -> None:
    reply = answerer.answer("what's the capital of peru").reply
    assert reply.intent is Intent.UNKNOWN
    assert "@" in reply.text  # the library's email from the site profile


def test_help_shows_what_the_bot_can_do(answerer: Answerer) -> None:
    assert answerer.answer("help").reply.faq_id == "bot-help"


def test_grey_zone_offers_at_most_three_suggestions(answerer: Answerer) -> None:
    from handlers.classify import Thresholds

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
    from handlers.classify import Thresholds

    classifier = answerer.classifier
    original = classifier.thresholds
    try:
        classifier.thresholds = Thresholds(answer=1.0, suggest=0.05)
        result = classifier.classify("athens password reset")
        assert result.intent is Intent.UNKNOWN
        assert "openathens-forgotten-password" in result.suggestions
    finally:
        classifier.thresholds = original


def test_over_long_message_is_refused_clearly(answerer: Answerer) -> None:
    reply = answerer.answer("evidence " * 2000).reply
    assert reply.intent is Intent.UNKNOWN
    assert "too long" in reply.text


def test_empty_message_is_unknown(answerer: Answerer) -> None:
    assert answerer.answer("   ").reply.intent is Intent.UNKNOWN


def test_message_with_an_nhs_number_gets_a_private_warning(answerer: Answerer) -> None:
    reply = answerer.answer("can you find evidence on sepsis for my patient 943 476 5919").reply
    assert reply.warning is not None
    assert "NHS number" in reply.warning
    assert "5919" not in reply.text
    assert reply.prefill is not None
    assert "5919" not in reply.prefill.topic


def test_clean_message_has_no_warning(answerer: Answerer) -> None:
    assert answerer.answer("library opening hours").reply.warning is None
