"""Who is using the web chat outside demo mode: an identity the server issues and signs.

The chat page gives a browser a random id (`web-` and 16 hex digits) in an HttpOnly,
SameSite=Strict cookie, signed with the server secret (bot/signing.py). A cookie the server
did not sign (made up, edited, or an old unsigned one) is not an identity: the chat API refuses
it with 403, and the page replaces it with a fresh one. So nobody can speak as another person,
nor as a specialist's web identity, by choosing a cookie.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

from aiohttp import web

from bot.signing import Signer

CHAT_COOKIE: Final = "ed_chat"
PURPOSE: Final = "web-chat-identity"
COOKIE_MAX_AGE: Final = 365 * 24 * 3600
_ISSUED = re.compile(r"^web-[0-9a-f]{16}$")


def issue(signer: Signer) -> tuple[str, str]:
    """A new identity: (user id, the signed cookie value that carries it)."""
    user = f"web-{secrets.token_hex(8)}"
    return user, signer.sign(PURPOSE, user)


def identity(signer: Signer, cookie: str | None) -> str | None:
    """The user id a cookie carries if this server issued it; None otherwise."""
    if not cookie or len(cookie) > 200:
        return None
    user = signer.unsign(PURPOSE, cookie)
    if user is None or not _ISSUED.match(user):
        return None
    return user


def set_identity_cookie(response: web.StreamResponse, value: str, secure: bool) -> None:
    response.set_cookie(
        CHAT_COOKIE,
        value,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/",
    )
