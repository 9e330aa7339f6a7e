"""Database URLs as people write them, turned into the async drivers the bot runs on.

Hosting platforms hand out `postgres://...` and `postgresql://...`, and people type
`sqlite:///file`; all of these would load a blocking driver, so they are rewritten to asyncpg
and aiosqlite rather than refused.
"""

from __future__ import annotations

import re
from typing import Final

_REWRITES: Final[tuple[tuple[str, str], ...]] = (
    ("postgres://", "postgresql+asyncpg://"),
    ("postgresql://", "postgresql+asyncpg://"),
    ("sqlite://", "sqlite+aiosqlite://"),
)
SUPPORTED_PREFIXES: Final[tuple[str, ...]] = ("postgresql+asyncpg://", "sqlite+aiosqlite://")
#: An embedded database's file: SQLAlchemy's URL pattern finds no user, host or port after
#: "///" (all the rest is the path and query), so there is nothing in it to refuse.
_FILE_ONLY: Final = "sqlite+aiosqlite:///"
# What a URL scheme can look like; anything else before the first colon may be a user name or
# a password (a URL missing its "scheme://"), so it is not repeated back.
_SCHEME_RE: Final = re.compile(r"[a-z][a-z0-9+.\-]{0,30}", re.IGNORECASE)


def normalize_database_url(url: str) -> str:
    """Return `url` with an async driver named; raise ValueError for other databases.

    The error names the scheme only, never the whole URL, which may hold a password; and not
    even that when what stands before the first colon is not shaped like a scheme. A URL
    SQLAlchemy cannot take apart (a password with an unencoded "/" or "@" makes part of it the
    port) is refused here too, with a message that quotes none of it: SQLAlchemy's own error
    would print the would-be port, which is then a piece of the password.
    """
    url = url.strip()
    for plain, with_driver in _REWRITES:
        if url.startswith(plain):
            url = with_driver + url[len(plain) :]
            break
    if not url.startswith(SUPPORTED_PREFIXES):
        scheme = url.split(":", 1)[0]
        if not _SCHEME_RE.fullmatch(scheme):
            scheme = "(not a URL)"
        raise ValueError(
            f"unsupported database URL scheme {scheme!r}: use sqlite+aiosqlite:///path "
            "or postgresql+asyncpg://user@host/dbname"
        )
    if url.startswith(_FILE_ONLY):
        # Not parsed with SQLAlchemy, which every start (`evidence-desk ask` too) would
        # otherwise import for this check alone (~0.3 s of CPU).
        return url
    from sqlalchemy.engine import make_url

    try:
        make_url(url).port  # noqa: B018 (the port is parsed when read)
    except Exception:
        raise ValueError(
            "the database URL could not be parsed: check the host and port, and "
            "percent-encode special characters in the user name and password"
        ) from None
    return url
