"""The whole desk as people meet it: requests, relays, listening and feedback, each a dialogue
through the real inbox, outbox and database (tests/dialogue.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import FaqFeedback
from bot.db.session import Database
from bot.messages import Intent
from tests.dialogue import Dialogue, Flow

REQUEST = "can you find evidence on falls prevention in older inpatients by Friday?"


def filed(chat: Dialogue) -> Flow:
    """The requester asks for a search and sends the form: the request is with Sam."""
    return (
        chat.send(REQUEST)
        .expect_reply(intent=Intent.SEARCH_REQUEST, buttons=["Open the request form"])
        .click("Open the request form")
        .expect_form("Request an evidence search")
        .submit_form(purpose="research")
        .expect_no_form()
        .expect_reply(contains="is with Sam Librarian")
    )


def claimed(chat: Dialogue) -> Flow:
    return (
        filed(chat)
        .as_specialist()
        .expect_reply(contains="falls prevention in older inpatients", buttons=["Claim", ...])
        .click("Claim")
        .expect_reply(contains="You have claimed", private=True)
        .expect_edit(contains="Status: Claimed by Sam Librarian")
        .as_requester()
        .expect_reply(contains="Sam Librarian has picked up your request")
    )


def overheard_after_listen_on(chat: Dialogue) -> Flow:
    """A nurse turns listening on in their team's channel, then asks the team (not the bot)
    about their Athens password."""
    nurse = chat.person("U_NURSE", "A Nurse", "C_TEAM")
    return (
        chat.as_(nurse)
        .send("listen on")
        .expect_reply(contains="Listening is on")
        .overhear("anyone know how to reset their athens password?")
    )


async def test_a_request_form_sent_from_the_ward_reaches_the_specialists_queue(
    dialogue: Dialogue,
) -> None:
    await (
        filed(dialogue)
        .expect_nothing_more()
        .as_specialist()
        .expect_reply(contains="falls prevention in older inpatients", buttons=["Claim", ...])
        .expect_nothing_more()
    )
    assert dialogue.requester.reply.title == dialogue.specialist.reply.title  # its reference


async def test_a_request_goes_to_the_specialist_and_the_evidence_comes_back(
    dialogue: Dialogue,
) -> None:
    await (
        claimed(dialogue)
        .as_specialist()
        .click("Ask requester")
        .expect_form("Ask about")
        .submit_form(question="Adults over 65 only, or all ages?")
        .expect_reply(contains="Question sent", private=True)
        .expect_edit(contains="Waiting for the requester")
        .as_requester()
        .expect_reply(contains="Adults over 65 only, or all ages?")
        .send("Over 65 only, please")
        .expect_reply(contains="I've passed that on")
        .as_specialist()
        .expect_reply(contains="Reply from the requester")
        .expect_edit(contains="Status: In progress")
        .click("Complete")
        .expect_form("Complete")
        .submit_form(
            summary="Three systematic reviews support multifactorial programmes.",
            links="https://example.nhs.uk/falls-review",
        )
        .expect_reply(contains="completed and sent", private=True)
        .expect_edit(contains="Status: Completed")
        .expect_nothing_more()
        .as_requester()
        .expect_reply(
            contains="Three systematic reviews support", buttons=["Tell us how it helped"]
        )
        .expect_nothing_more()
    )
    relayed = dialogue.specialist.received
    assert any("Over 65 only, please" in seen.reply.text for seen in relayed)


async def test_the_requester_can_say_how_the_evidence_helped(dialogue: Dialogue) -> None:
    await (
        claimed(dialogue)
        .as_specialist()
        .click("Complete")
        .submit_form(summary="Two guidelines and a Cochrane review.")
        .as_requester()
        .expect_reply(contains="Your evidence for")
        .click("Tell us how it helped")
        .expect_form("How did")
        .submit_form(helped="yes", time_saved_hours="lots")
        .expect_form("How did", errors=["time_saved_hours"])
        .submit_form(time_saved_hours="3")
        .expect_no_form()
        .expect_reply(contains="Thank you", private=True)
    )


async def test_only_a_specialist_can_claim_a_request(dialogue: Dialogue) -> None:
    visitor = dialogue.person("U_VISITOR", "A Visitor", "C_LIBRARY")
    await (
        filed(dialogue)
        .as_(visitor)
        .expect_reply(buttons=["Claim", ...])
        .click("Claim")
        .expect_reply(contains="Only the library's knowledge specialists", private=True)
        .expect_nothing_more()
    )


async def test_a_channel_that_opts_in_is_answered_unasked(dialogue: Dialogue) -> None:
    await overheard_after_listen_on(dialogue).expect_reply(
        faq_id="openathens-forgotten-password",
        buttons=["Helpful", "Not helpful", "Ask a librarian", "Not now", "Stop listening here"],
    )


async def test_a_channel_is_not_listened_to_until_it_opts_in(dialogue: Dialogue) -> None:
    nurse = dialogue.person("U_NURSE", "A Nurse", "C_TEAM")
    await (
        dialogue.as_(nurse)
        .overhear("anyone know how to reset their athens password?")
        .expect_nothing_more()
    )


async def test_stop_listening_here_turns_listening_off_for_the_channel(dialogue: Dialogue) -> None:
    await (
        overheard_after_listen_on(dialogue)
        .expect_reply(faq_id="openathens-forgotten-password")
        .click("Stop listening here")
        .expect_reply(contains="A Nurse turned listening off")
        .overhear("how do I get an OpenAthens account?")
        .expect_nothing_more()
    )


async def test_listening_is_switched_in_a_channel_not_a_direct_chat(dialogue: Dialogue) -> None:
    alone = dialogue.person("U_ALONE", "Someone", "D_ALONE", direct=True)
    await dialogue.as_(alone).send("listen on").expect_reply(contains="channel")


async def test_a_helpful_vote_on_an_answer_is_counted(
    dialogue: Dialogue, database: Database
) -> None:
    await (
        dialogue.send("forgot my athens password")
        .expect_reply(faq_id="openathens-forgotten-password")
        .click("Helpful")
        .expect_reply(contains="Thanks for the feedback.", private=True)
        .expect_nothing_more()
    )
    async with database.read() as session:
        votes = (await session.scalars(select(FaqFeedback))).all()
    assert [(v.faq_id, v.helpful) for v in votes] == [("openathens-forgotten-password", True)]
