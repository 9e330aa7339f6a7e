"""Using the web chat page as a person does: type, send, open and fill the request form."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

REFERENCE = re.compile(r"KLS-\d{4}-\d{5}")
VALID_NHS_NUMBER = "943 476 5919"


def ask(page: Any, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def open_request_form(page: Any, question: str) -> Any:
    ask(page, "can you find papers on falls prevention by Friday?")
    page.get_by_role("button", name="Open the request form").click()
    form = page.locator("#log-requester form.ed-form").last
    expect(form.get_by_role("heading", name="Request an evidence search")).to_be_visible()
    form.get_by_label("What do you need evidence on?").fill(question)
    form.get_by_label("What is it for?").select_option("service_development")
    return form


def make_request(page: Any, question: str) -> str:
    form = open_request_form(page, question)
    form.get_by_role("button", name="Send request").click()
    confirmation = page.locator("#log-requester .ed-reply", has_text="Thanks, your request").last
    expect(confirmation).to_contain_text(REFERENCE)
    found = REFERENCE.search(confirmation.inner_text())
    assert found is not None
    return found.group(0)
