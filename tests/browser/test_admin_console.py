"""The admin console in a real browser: sign-in, editing and publishing an answer that the
chat then gives, rollback, what is refused (a wrong password, a form without its token), and
switching listening mode for a channel."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from bot.desk.listening_store import ListeningStore
from bot.keys import DATABASE
from tests.browser.chat_page import ask
from tests.browser.conftest import LiveServer

MARKER = "Open every day this week, including Sunday."


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def publish_opening_hours(
    page: Any, admin_account: tuple[str, str], label: str, value: str
) -> None:
    """Signed in, the opening hours entry's `label` field set to `value`, and Publish pressed."""
    sign_in(page, *admin_account)
    page.goto("/admin/kb/entry/library-opening-hours")
    page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Publish").click()


def test_an_edited_answer_is_published_and_the_chat_gives_it_then_rollback_restores_it(
    page: Any, admin_account: tuple[str, str]
) -> None:
    sign_in(page, *admin_account)
    expect(page.get_by_role("heading", name="Admin console")).to_be_visible()
    page.get_by_role("link", name="Knowledge base", exact=True).click()
    page.get_by_label("Search entries").fill("opening hours")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Library opening hours").click()

    answer = page.get_by_label("Answer")
    answer.fill(MARKER + "\n\n" + answer.input_value())
    expect(page.locator("#preview")).to_contain_text(MARKER)  # the live preview
    page.get_by_label("What changed").fill("Opening this week")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("main .ed-notice").first).to_contain_text("Published as version 2")

    page.goto("/")
    ask(page, "library opening hours")
    expect(page.locator("#log-requester article.ed-reply").last).to_contain_text(MARKER)

    page.goto("/admin/kb/history")
    expect(page.locator("table")).to_contain_text("Opening this week")
    page.once("dialog", lambda dialog: dialog.accept())  # "Roll back to version 1?"
    page.get_by_role("button", name="Roll back to version 1").click()
    expect(page.locator("main .ed-notice").first).to_contain_text("version 3 is live")

    page.goto("/")
    ask(page, "library opening hours")
    latest = page.locator("#log-requester article.ed-reply").last
    expect(latest).to_contain_text("Library opening hours")
    expect(latest).not_to_contain_text(MARKER)


def test_an_invalid_edit_shows_the_problem_beside_its_field_and_publishes_nothing(
    page: Any, admin_account: tuple[str, str]
) -> None:
    publish_opening_hours(page, admin_account, "Review by", "2020-01-01")
    expect(page.locator(".ed-error-summary")).to_contain_text("'review_by' must be after")
    expect(page.locator(".ed-form-group--error")).to_contain_text("Review by")
    page.goto("/admin/kb/history")
    expect(page.locator("tbody tr")).to_have_count(0)  # nothing published: no versions yet


def test_a_wrong_password_is_refused(page: Any, admin_account: tuple[str, str]) -> None:
    email, _ = admin_account
    sign_in(page, email, "not the password at all")
    expect(page.locator(".ed-error-summary")).to_contain_text("not right")
    expect(page).to_have_url(re.compile(r"/admin/login$"))
    page.goto("/admin/kb")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))


def test_a_form_without_its_csrf_token_is_refused(
    page: Any, admin_account: tuple[str, str]
) -> None:
    sign_in(page, *admin_account)
    expect(page.get_by_role("heading", name="Admin console")).to_be_visible()
    # The signed-in browser's own cookies, but no token: what a forged form would send.
    response = page.request.post("/admin/kb/rollback", form={"version": "1"})
    assert response.status == 403
    assert "CSRF" in response.text()
    with_token = page.request.post(
        "/admin/kb/rollback", form={"version": "1", "csrf_token": "guessed"}
    )
    assert with_token.status == 403
    page.goto("/admin/kb/history")
    expect(page.locator("tbody tr")).to_have_count(0)  # nothing published: no versions yet


def test_listening_is_switched_on_and_off_for_a_channel_and_the_audit_trail_names_the_admin(
    page: Any, admin_account: tuple[str, str], server: LiveServer
) -> None:
    email, _ = admin_account
    store = ListeningStore(server.app[DATABASE])
    sign_in(page, *admin_account)
    page.get_by_role("link", name="Listening", exact=True).click()
    expect(page.get_by_role("heading", name="Listening mode")).to_be_visible()

    page.get_by_label("Platform").select_option("slack")
    page.get_by_label("Channel id").fill("#general")
    page.get_by_role("button", name="Switch listening on").click()
    expect(page.locator(".ed-error-summary")).to_contain_text("is not a Slack channel id")
    expect(page.get_by_label("Channel id")).to_have_value("#general")

    page.get_by_label("Channel id").fill("C0123ABCD")
    page.get_by_role("button", name="Switch listening on").click()
    expect(page.locator("main .ed-notice")).to_contain_text("Listening is on in slack channel")
    row = page.locator("#listening-channels tbody tr", has_text="C0123ABCD")
    expect(row).to_contain_text(f"web:{email}")
    assert server.run(store.is_enabled("slack", "C0123ABCD"))

    row.get_by_role("button", name="Switch off listening in slack C0123ABCD").click()
    expect(row.locator(".ed-tag")).to_have_text("off")
    assert not server.run(store.is_enabled("slack", "C0123ABCD"))
    page.locator("details.ed-audit summary", has_text="C0123ABCD").click()
    expect(page.locator("details.ed-audit tbody tr")).to_have_text(
        [re.compile(rf"web:{re.escape(email)}\s*switched off"), re.compile(r"switched on")]
    )


def test_rollback_asks_first_and_a_no_changes_nothing(
    page: Any, admin_account: tuple[str, str]
) -> None:
    publish_opening_hours(page, admin_account, "What changed", "A second version")
    expect(page.locator("main .ed-notice").first).to_contain_text("Published as version 2")
    page.goto("/admin/kb/history")
    asked: list[str] = []

    def say_no(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", say_no)
    page.get_by_role("button", name="Roll back to version 1").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    assert asked and "Roll back to version 1?" in asked[0]
    expect(page.locator("main .ed-notice")).to_have_count(0)


def test_the_kb_table_fits_a_phone_screen(page: Any, admin_account: tuple[str, str]) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, *admin_account)
    page.goto("/admin/kb")
    table = page.locator("table.ed-table")
    expect(table).to_be_visible()
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 360, f"the page is {page_width}px wide on a 360px screen"
    first = page.locator("table.ed-table tbody tr").first
    expect(first.locator('td[data-label="Review by"]')).to_be_visible()  # labelled on a phone
    for cell in first.locator("td").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box


def test_an_address_that_is_not_there_gets_a_styled_page(
    page: Any, admin_account: tuple[str, str]
) -> None:
    sign_in(page, *admin_account)
    response = page.goto("/admin/kb/entry/no-such-entry")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("main")).to_contain_text("There is no entry 'no-such-entry'")
    expect(page.get_by_role("link", name="Back to the admin console")).to_be_visible()
