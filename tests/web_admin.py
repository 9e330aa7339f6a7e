"""The admin console's account, and signing in to it over HTTP as a browser does: the login
page's CSRF token, then the form. Shared by the web and Slack workflow tests."""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from unittest import mock

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.db.session import Database
from bot.desk import accounts
from bot.desk.accounts import AdminAccounts, AdminView

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


_hash_password = accounts.hash_password


@cache
def _hashed(password: str) -> str:
    return _hash_password(password)


async def add_admin(database: Database, email: str = EMAIL, password: str = PASSWORD) -> AdminView:
    """`AdminAccounts.add`, with each password's Argon2id hash made once per process: a hash
    costs ~0.2 s of CPU by design, and an account made for a test need not pay it again (its
    salt is no test's concern; tests/db/test_admin_auth.py checks the hashing itself)."""
    with mock.patch.object(accounts, "hash_password", _hashed):
        return await AdminAccounts(database).add(email, password)


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
