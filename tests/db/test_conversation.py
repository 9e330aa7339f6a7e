"""The desk end to end on the shipped KB and the real matcher, read as a dialogue: each message
goes through the inbox, the desk and the outbox (tests/dialogue.py)."""

from __future__ import annotations

import pytest

from bot.messages import Intent
from tests.dialogue import WARD, Dialogue


async def test_forgotten_athens_password_gets_the_password_answer(dialogue: Dialogue) -> None:
    await dialogue.send("forgot my athens password").expect_reply(
        faq_id="openathens-forgotten-password"
    )


async def test_every_faq_answer_carries_its_source_link(dialogue: Dialogue) -> None:
    await dialogue.send("how do I get an OpenAthens account?").expect_reply(intent=Intent.FAQ)
    sources = dialogue.requester.reply.sources
    assert sources and all(s.url.startswith("https://") for s in sources)


async def test_faq_answer_offers_feedback_and_a_librarian(dialogue: Dialogue) -> None:
    await dialogue.send("library opening hours").expect_reply(
        buttons=["Helpful", "Not helpful", "Ask a librarian"]
    )


async def test_typos_and_lower_case_still_match(dialogue: Dialogue) -> None:
    await dialogue.send("i forgot my openathens pasword").expect_reply(
        faq_id="openathens-forgotten-password"
    )


async def test_abbreviation_is_understood(dialogue: Dialogue) -> None:
    await dialogue.send("how do I request an ILL").expect_reply(faq_id="document-supply")


async def test_question_after_a_greeting_is_answered(dialogue: Dialogue) -> None:
    await dialogue.send(
        "Hi team, hope you're well! Quick one - when is the library open?"
    ).expect_reply(faq_id="library-opening-hours")


async def test_mention_markup_does_not_disturb_matching(dialogue: Dialogue) -> None:
    await dialogue.send("<@U0BOT123> reset athens password").expect_reply(
        faq_id="openathens-forgotten-password"
    )


async def test_site_placeholders_are_filled_in_answers(dialogue: Dialogue) -> None:
    await dialogue.send("how do I contact the library").expect_reply(faq_id="library-contact")
    assert "{{" not in dialogue.requester.reply.text


async def test_request_for_evidence_offers_the_form_prefilled_with_its_topic(
    dialogue: Dialogue,
) -> None:
    await (
        dialogue.send("can you find papers on falls prevention in care homes?")
        .expect_reply(intent=Intent.SEARCH_REQUEST)
        .click("Open the request form")
        .expect_form("Request an evidence search")
    )
    form = dialogue.requester.form
    assert form is not None
    assert {f.name: f.value for f in form.fields}["question"] == ("falls prevention in care homes")


async def test_search_request_keeps_its_deadline_words(dialogue: Dialogue) -> None:
    await dialogue.send("lit search on pressure ulcer prevention by Friday please").expect_reply(
        intent=Intent.SEARCH_REQUEST
    )
    prefill = dialogue.requester.reply.prefill
    assert prefill is not None
    assert prefill.topic == "pressure ulcer prevention"
    assert prefill.deadline_text == "by Friday"
    assert prefill.deadline is not None


async def test_question_about_the_search_service_is_an_faq(dialogue: Dialogue) -> None:
    await dialogue.send("how do I ask the library for a literature search?").expect_reply(
        faq_id="literature-search-service"
    )


async def test_clinical_question_becomes_a_search_request_not_an_answer(
    dialogue: Dialogue,
) -> None:
    await dialogue.send(
        "does early mobilisation reduce delirium in older inpatients?"
    ).expect_reply(intent=Intent.SEARCH_REQUEST)
    assert dialogue.requester.reply.faq_id is None


@pytest.mark.parametrize("text", ["hello", "thanks!", "cheers, that was really helpful"])
async def test_greetings_and_thanks_are_smalltalk(dialogue: Dialogue, text: str) -> None:
    await dialogue.send(text).expect_reply(intent=Intent.SMALLTALK).expect_nothing_more()


@pytest.mark.parametrize(
    "text",
    ["how do I book annual leave", "the ward printer is jammed", "where can I park my car"],
)
async def test_out_of_scope_questions_are_unknown_not_faq(dialogue: Dialogue, text: str) -> None:
    await dialogue.send(text).expect_reply(intent=Intent.UNKNOWN)


async def test_unknown_reply_says_how_to_reach_the_library(dialogue: Dialogue) -> None:
    await dialogue.send("what's the capital of peru").expect_reply(
        "@",
        intent=Intent.UNKNOWN,  # the library's email from the site profile
    )


async def test_help_shows_what_the_bot_can_do(dialogue: Dialogue) -> None:
    await dialogue.send("help").expect_reply(faq_id="bot-help")


async def test_over_long_message_is_refused_clearly(dialogue: Dialogue) -> None:
    await dialogue.send("evidence " * 2000).expect_reply("too long", intent=Intent.UNKNOWN)


async def test_empty_message_is_unknown(dialogue: Dialogue) -> None:
    await dialogue.send("   ").expect_reply(intent=Intent.UNKNOWN)


async def test_message_with_an_nhs_number_gets_a_private_warning(dialogue: Dialogue) -> None:
    await (
        dialogue.send("can you find evidence on sepsis for my patient 943 476 5919")
        .expect_reply("NHS number", private=True)
        .expect_reply(intent=Intent.SEARCH_REQUEST, private=False)
        .expect_nothing_more()
    )
    reply = dialogue.requester.reply
    assert "5919" not in reply.text
    assert reply.prefill is not None and "5919" not in reply.prefill.topic


async def test_a_colleague_in_the_channel_sees_the_answer_but_not_the_warning(
    dialogue: Dialogue,
) -> None:
    colleague = dialogue.person("U_NURSE", "A Nurse", WARD)
    await (
        dialogue.send("can you find evidence on sepsis for my patient 943 476 5919")
        .as_(colleague)
        .expect_reply(intent=Intent.SEARCH_REQUEST)
        .expect_nothing_more()
    )


async def test_clean_message_has_no_warning(dialogue: Dialogue) -> None:
    await (
        dialogue.send("library opening hours")
        .expect_reply(faq_id="library-opening-hours")
        .expect_nothing_more()
    )
