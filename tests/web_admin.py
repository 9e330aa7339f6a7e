"""Signing in to the admin console over HTTP, as a browser does: the login page's CSRF token,
then the form. Shared by the web and Slack workflow tests."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

EMAIL, PASSWORD = "admin@example.nhs.uk", "a long enough password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def assert_signed_in(response: Any, *, to: str, cookie: str, samesite: str, path: str) -> None:
    """A sign-in that worked: a redirect to `to` that sets the session cookie `cookie`,
    HttpOnly, with `samesite` and `path`; not Secure over the tests' plain http (https, or the
    setting, adds it)."""
    assert response.status == 303
    assert response.headers["Location"] == to
    flags = response.cookies[cookie]
    assert flags["httponly"] is True
    assert (flags["samesite"], flags["path"]) == (samesite, path)
    assert not flags["secure"]


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in(client: TestClient[Any, Any], password: str = PASSWORD) -> web.Response | Any:
    page = await client.get("/admin/login")
    token = csrf_of(await page.text())
    return await client.post(
        "/admin/login",
        data={"email": EMAIL, "password": password, "csrf_token": token, "next": "/admin"},
        allow_redirects=False,
    )
