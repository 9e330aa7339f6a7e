"""The admin console's entry editor over HTTP, as an admin meets it: a blank new entry, a
draft with problems, and addresses that are not there."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.web_admin import csrf_of, sign_in

Client = TestClient[Any, Any]
OTHER_PARTS = "other parts of the knowledge base have problems"


async def editor_token(client: Client) -> str:
    await sign_in(client)
    return csrf_of(await (await client.get("/admin/kb/new")).text())


async def test_a_blank_new_entry_page_shows_no_errors_yet(client: Client) -> None:
    await sign_in(client)
    page = await client.get("/admin/kb/new")
    html = await page.text()
    assert page.status == 200
    assert "There is a problem" not in html
    assert "ed-error-message" not in html
    assert "Not ready to publish" not in html
    assert "Fill in the entry" in html


async def test_a_new_entrys_own_missing_fields_are_shown_as_its_own(client: Client) -> None:
    token = await editor_token(client)
    checked = await client.post(
        "/admin/kb/entry",
        data={"csrf_token": token, "intent": "preview", "answer": "Ask at the desk.",
              "category": "library"},
    )  # fmt: skip
    html = await checked.text()
    assert OTHER_PARTS not in html
    assert "There is a problem" in html


async def test_the_preview_fills_placeholders_while_a_field_is_invalid(client: Client) -> None:
    token = await editor_token(client)
    checked = await client.post(
        "/admin/kb/preview",
        data={"csrf_token": token, "id": "email-us", "title": "Email us", "category": "library",
              "questions": "how do I email the library", "answer": "Email {{library_email}}.",
              "owner": "Library team", "reviewed": "2026-10-01", "review_by": "2020-01-01"},
    )  # fmt: skip
    html = await checked.text()
    assert "Not ready to publish" in html  # the review date is invalid
    assert "{{library_email}}" not in html
    assert "library@example.nhs.uk" in html


async def test_a_missing_console_page_is_a_styled_404(client: Client) -> None:
    await sign_in(client)
    missing = await client.get("/admin/kb/entry/no-such-entry")
    assert missing.status == 404
    html = await missing.text()
    assert "<h1>Page not found</h1>" in html and "/static/desk.css" in html
    assert "There is no entry &#39;no-such-entry&#39;" in html
    unknown = await client.get("/admin/no/such/page")
    assert unknown.status == 404 and "Page not found" in await unknown.text()
    api = await client.get("/chat/api/nothing")
    assert api.status == 404 and "Page not found" not in await api.text()
