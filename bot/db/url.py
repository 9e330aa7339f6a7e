"""Database URLs as people write them, turned into the async drivers the bot runs on.

Hosting platforms hand out `postgres://...` and `postgresql://...`, and people type
`sqlite:///file`; all of these would load a blocking driver, so they are rewritten to asyncpg
and aiosqlite rather than refused.
"""

from __future__ import annotations

from typing import Final

_REWRITES: Final[tuple[tuple[str, str], ...]] = (
    ("postgres://", "postgresql+asyncpg://"),
    ("postgresql://", "postgresql+asyncpg://"),
    ("sqlite://", "sqlite+aiosqlite://"),
)
SUPPORTED_PREFIXES: Final[tuple[str, ...]] = ("postgresql+asyncpg://", "sqlite+aiosqlite://")


def normalize_database_url(url: str) -> str:
    """Return `url` with an async driver named; raise ValueError for other databases.

    The error names the scheme only, never the whole URL, which may hold a password.
    """
    url = url.strip()
    for plain, with_driver in _REWRITES:
        if url.startswith(plain):
            url = with_driver + url[len(plain) :]
            break
    if not url.startswith(SUPPORTED_PREFIXES):
        scheme = url.split(":", 1)[0] or "(empty)"
        raise ValueError(
            f"unsupported database URL scheme {scheme!r}: use sqlite+aiosqlite:///path "
            "or postgresql+asyncpg://user@host/dbname"
        )
    return url
