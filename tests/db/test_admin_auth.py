"""Admin accounts, password hashing, the sign-in rate limit and sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.db.session import Database
from bot.desk.accounts import (
    AdminAccounts,
    LoginLimiter,
    PasswordAuthenticator,
    SessionStore,
    hash_password,
    token_hash,
    verify_password,
)
from bot.errors import UserFacingError
from tests.db.conftest import FakeClock

EMAIL, PASSWORD = "librarian@example.nhs.uk", "correct horse battery"


def test_passwords_are_hashed_with_argon2id_and_verified() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)
    assert hash_password(PASSWORD) != hashed  # salted


def test_short_passwords_are_refused() -> None:
    with pytest.raises(UserFacingError, match="at least 12"):
        hash_password("short")


async def test_accounts_are_unique_by_email_case_insensitively(database: Database) -> None:
    accounts = AdminAccounts(database)
    admin = await accounts.add("Librarian@Example.NHS.uk", PASSWORD)
    assert admin.email == EMAIL
    with pytest.raises(UserFacingError, match="already"):
        await accounts.add(EMAIL, PASSWORD)
    assert await accounts.check_password(EMAIL, PASSWORD) is not None
    assert await accounts.check_password(EMAIL, "wrong password here") is None
    await accounts.deactivate(EMAIL)
    assert await accounts.check_password(EMAIL, PASSWORD) is None


@pytest.fixture
def authenticator(database: Database, clock: FakeClock) -> PasswordAuthenticator:
    limiter = LoginLimiter(database, 5, timedelta(minutes=15), clock)
    return PasswordAuthenticator(AdminAccounts(database, clock), limiter)


async def test_five_failures_lock_out_that_email_and_address_for_the_window(
    database: Database, authenticator: PasswordAuthenticator, clock: FakeClock
) -> None:
    await AdminAccounts(database).add(EMAIL, PASSWORD)
    for _ in range(5):
        result = await authenticator.authenticate({"email": EMAIL, "password": "nope"}, "10.0.0.1")
        assert result.admin is None and not result.rate_limited
    locked = await authenticator.authenticate({"email": EMAIL, "password": PASSWORD}, "10.0.0.1")
    assert locked.admin is None and locked.rate_limited
    # Another address is not locked out by someone else's failures.
    other = await authenticator.authenticate({"email": EMAIL, "password": PASSWORD}, "10.0.0.2")
    assert other.admin is not None
    clock.advance(minutes=16)
    later = await authenticator.authenticate({"email": EMAIL, "password": PASSWORD}, "10.0.0.1")
    assert later.admin is not None


async def test_unknown_email_and_wrong_password_get_the_same_answer(
    database: Database, authenticator: PasswordAuthenticator
) -> None:
    await AdminAccounts(database).add(EMAIL, PASSWORD)
    unknown = await authenticator.authenticate(
        {"email": "nobody@example.nhs.uk", "password": PASSWORD}, "10.0.0.1"
    )
    wrong = await authenticator.authenticate({"email": EMAIL, "password": "wrong"}, "10.0.0.1")
    assert unknown.error == wrong.error


async def test_sessions_store_only_a_hash_of_the_token(
    database: Database, clock: FakeClock
) -> None:
    admin = await AdminAccounts(database, clock).add(EMAIL, PASSWORD)
    token, started = await SessionStore(database, clock=clock).start(admin)
    assert len(token) >= 40 and len(started.csrf_token) >= 40
    async with database.engine.connect() as connection:
        (row,) = (await connection.execute(text("SELECT * FROM admin_sessions"))).all()
    stored = [str(value) for value in row]
    assert token_hash(token) in stored
    assert not any(token in value for value in stored)


async def test_sessions_expire_when_idle_and_after_their_lifetime(
    database: Database, clock: FakeClock
) -> None:
    admin = await AdminAccounts(database, clock).add(EMAIL, PASSWORD)
    sessions = SessionStore(database, timedelta(hours=8), timedelta(hours=1), clock)
    token, _ = await sessions.start(admin)
    loaded = await sessions.load(token)
    assert loaded is not None and loaded.admin.email == EMAIL
    assert await sessions.load(token + "x") is None
    clock.advance(minutes=59)
    assert await sessions.load(token) is not None  # and that use keeps it alive
    clock.advance(minutes=61)
    assert await sessions.load(token) is None  # idle too long
    token, _ = await sessions.start(admin)
    for _ in range(9):
        clock.advance(minutes=55)
        await sessions.load(token)
    assert await sessions.load(token) is None  # past its 8 hours however busy
    token, _ = await sessions.start(admin)
    await sessions.end(token)
    assert await sessions.load(token) is None


async def test_a_new_password_signs_the_account_out_everywhere(
    database: Database, clock: FakeClock
) -> None:
    accounts = AdminAccounts(database, clock)
    admin = await accounts.add(EMAIL, PASSWORD)
    sessions = SessionStore(database, clock=clock)
    token, _ = await sessions.start(admin)
    await accounts.set_password(EMAIL, "another long password")
    assert await sessions.load(token) is None
    assert await accounts.check_password(EMAIL, "another long password") is not None
