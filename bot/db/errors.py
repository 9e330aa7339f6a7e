"""Is this failure the database being unreachable? One answer, used by every adapter.

When the database cannot be reached, a platform request is refused with 503 and Retry-After
(`unavailable_body`, `RETRY_AFTER_SECONDS`): Slack and the Bot Framework retry a request that
did not get a 2xx, so nothing is lost, whereas a 200 would tell them the event was taken when
it could not even be journalled. Everything else that goes wrong stays a 500, logged: a bug
must never be hidden behind "try again later".

"Unreachable" means, and only means:

* SQLAlchemy saw the connection die (`DBAPIError.connection_invalidated`), or timed out
  waiting for a pooled connection (the pool is full of connections that cannot connect);
* PostgreSQL said so: SQLSTATE class 08 (connection exception), 57P01-57P03 (shut down,
  crashed, starting up), 53300 (too many connections);
* SQLite cannot use its file: locked past the busy timeout, cannot be opened, read-only,
  disk I/O error, disk full;
* a network error or a timeout (`ConnectionError`, DNS failure, `TimeoutError`) raised by the
  database driver itself: the same error from an HTTP client (the Slack or Bot Framework
  API) is not the database's, so it is only counted when the driver's code raised it;
* `DatabaseUnavailable`, which `Database.ping` raises when a check runs out of time.

Only the explicit chain is followed (`__cause__` and a DBAPIError's `orig`), never the implicit
`__context__`: a bug raised while handling a database error is still a bug.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Final

from sqlalchemy import exc as sa_exc

__all__ = [
    "RETRY_AFTER_SECONDS",
    "DatabaseUnavailable",
    "is_database_unavailable",
    "unavailable_body",
    "unavailable_headers",
]

#: What a refused request's Retry-After says (Slack keeps its own schedule; the hint is for
#: the Bot Framework, load balancers and people reading logs).
RETRY_AFTER_SECONDS: Final = 30

_SQLSTATES: Final = frozenset({"57P01", "57P02", "57P03", "53300"})
_SQLITE_MESSAGES: Final = (
    "database is locked",
    "unable to open database file",
    "readonly database",
    "disk i/o error",
    "database or disk is full",
)
_NETWORK_ERRNOS: Final = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
    }
)
_DRIVER_MODULES: Final = ("sqlalchemy.", "asyncpg", "aiosqlite", "bot.db.")


class DatabaseUnavailable(Exception):
    """The database could not be reached in time (raised by `Database.ping`)."""


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached right now (see the module doc)."""
    return any(_unavailable(each) for each in _explicit_chain(error))


def unavailable_body() -> dict[str, Any]:
    """The JSON error of a refused request: says what happened and that a retry will work."""
    return {
        "error": "service unavailable: the database cannot be reached right now",
        "detail": "Nothing was recorded; send the request again later.",
        "retry_after": RETRY_AFTER_SECONDS,
    }


def unavailable_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _explicit_chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen or len(seen) >= 20:
            continue
        seen.add(id(current))
        yield current
        if current.__cause__ is not None:
            pending.append(current.__cause__)
        orig = getattr(current, "orig", None) if isinstance(current, sa_exc.DBAPIError) else None
        if isinstance(orig, BaseException):
            pending.append(orig)


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailable):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection became free in time
        return True
    sqlstate = getattr(error, "sqlstate", None)  # asyncpg's PostgresError
    if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _SQLSTATES):
        return True
    if isinstance(error, sqlite3.OperationalError):
        message = str(error).lower()
        return any(text in message for text in _SQLITE_MESSAGES)
    if _is_network_error(error):
        return _raised_by_driver(error.__traceback__)
    return False


def _is_network_error(error: BaseException) -> bool:
    if isinstance(error, ConnectionError | socket.gaierror | TimeoutError):
        return True
    return isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS


def _raised_by_driver(traceback: TracebackType | None) -> bool:
    """Whether any frame between where it was caught and where it was raised is the
    database driver's (or SQLAlchemy's, or ours in bot/db)."""
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DRIVER_MODULES):
            return True
        traceback = traceback.tb_next
    return False
