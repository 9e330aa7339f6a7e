"""Signing in to the admin console over HTTP, as a browser does: the login page's CSRF token,
then the form. Shared by the web and Slack workflow tests."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

EMAIL, PASSWORD = "admin@example.nhs.uk", "a long enough password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


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
