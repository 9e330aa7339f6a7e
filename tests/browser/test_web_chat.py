"""The web chat in a real browser: questions, the request form and its privacy gate, and the
whole ticket story between the requester and the specialist views."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.chat_page import (
    REFERENCE,
    VALID_NHS_NUMBER,
    ask,
    make_request,
    open_request_form,
)


def test_a_question_is_answered_with_its_source(page: Any) -> None:
    page.goto("/")
    ask(page, "library opening hours")
    answer = page.locator("#log-requester article.ed-reply").last
    expect(answer.get_by_role("heading", name="Library opening hours")).to_be_visible()
    expect(answer.locator(".ed-sources")).to_contain_text("Source:")
    expect(answer.locator(".ed-sources a").first).to_have_attribute("href", re.compile("^https://"))
    answer.get_by_role("button", name="Helpful", exact=True).click()
    expect(page.locator("#log-requester")).to_contain_text("Thanks for the feedback.")


def test_a_request_with_an_nhs_number_is_held_back_with_a_warning(page: Any) -> None:
    page.goto("/")
    form = open_request_form(page, f"falls prevention for patient {VALID_NHS_NUMBER}")
    form.get_by_role("button", name="Send request").click()
    form = page.locator("#log-requester form.ed-form").last
    expect(form.locator(".ed-error-summary")).to_be_visible()
    expect(form).to_contain_text("patient-identifiable")
    expect(form.locator("[id$='-question-error']")).to_contain_text("NHS number")
    expect(form.locator("[id$='-privacy_ack-error']")).to_contain_text("taken out")
    expect(page.locator("#log-requester")).not_to_contain_text(REFERENCE)


def test_a_clean_request_gets_a_reference(page: Any) -> None:
    page.goto("/")
    reference = make_request(page, "falls prevention in older inpatients")
    assert REFERENCE.fullmatch(reference)


def test_the_specialist_claims_clarifies_and_completes_while_the_requester_watches(
    page: Any,
) -> None:
    page.goto("/")
    reference = make_request(page, "falls prevention in older inpatients")
    requester = page.locator("#log-requester")

    page.get_by_role("button", name="Specialist view").click()
    specialist = page.locator("#pane-specialist")
    card = specialist.locator(".ed-home .ed-reply", has_text=reference).first
    expect(card).to_contain_text("New: waiting for a specialist")
    card.get_by_role("button", name="Claim").click()
    expect(specialist).to_contain_text(f"You have claimed {reference}")

    page.get_by_role("button", name="Requester view").click()
    expect(requester).to_contain_text(f"has picked up your request {reference}")

    page.get_by_role("button", name="Specialist view").click()
    card = specialist.locator(".ed-home .ed-reply", has_text=reference).first
    card.get_by_role("button", name="Ask requester").click()
    ask_form = specialist.locator("form.ed-form").last
    ask_form.get_by_label("Your question for the requester").fill("Adults only, or children too?")
    ask_form.get_by_role("button", name="Send question").click()
    expect(specialist).to_contain_text(f"Question sent to the requester of {reference}")

    page.get_by_role("button", name="Requester view").click()
    expect(requester).to_contain_text("Adults only, or children too?")
    ask(page, "Adults only please")
    expect(requester).to_contain_text(f"I've passed that on ({reference})")

    page.get_by_role("button", name="Specialist view").click()
    expect(specialist.locator("#log-specialist")).to_contain_text("Adults only please")
    card = specialist.locator(".ed-home .ed-reply", has_text=reference).first
    card.get_by_role("button", name="Complete").click()
    done = specialist.locator("form.ed-form").last
    done.get_by_label("Summary for the requester").fill("Three systematic reviews attached.")
    done.get_by_label("Links (one a line): results, search strategy").fill(
        "https://example.nhs.uk/results"
    )
    done.get_by_role("button", name="Send to requester").click()
    expect(specialist).to_contain_text(f"{reference} completed and sent.")
    expect(specialist.locator(".ed-home")).not_to_contain_text(reference)

    page.get_by_role("button", name="Requester view").click()
    expect(requester).to_contain_text(f"Your evidence for {reference} is ready")
    expect(requester).to_contain_text("Three systematic reviews attached.")
    expect(requester.get_by_role("button", name="Tell us how it helped")).to_be_visible()


def test_reloading_the_page_shows_the_conversation_so_far(page: Any) -> None:
    page.goto("/")
    ask(page, "library opening hours")
    log = page.locator("#log-requester")
    expect(log.locator("article.ed-reply").last).to_contain_text("Library opening hours")
    page.reload()
    log = page.locator("#log-requester")
    expect(log.locator(".ed-log__item--you")).to_have_count(1)
    expect(log.locator(".ed-log__item--you")).to_contain_text("library opening hours")
    expect(log.locator("article.ed-reply", has_text="Library opening hours")).to_have_count(1)
