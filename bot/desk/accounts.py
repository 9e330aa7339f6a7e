"""Admin accounts, sign-in, sessions and the sign-in rate limit.

* Passwords are hashed with Argon2id (argon2-cffi's `PasswordHasher`, RFC 9106 parameters) and
  re-hashed on sign-in when the parameters move on.
* Sign-in goes through an `Authenticator` (`PasswordAuthenticator`, the local accounts), or
  through single sign-on ("Sign in with Microsoft", bot/platforms/web/sso/), which ends in the same
  table: `SessionStore.start_person` with an active `admin_users` row when the person may use
  the console. Nothing else in the console knows how someone signed in.
* A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie; the database holds
  only its SHA-256, so a leaked database cannot be replayed as a cookie. Each session has its
  own CSRF token, checked on every form the console posts.
* Sign-in attempts are counted per email and client address in the database (so every worker
  shares the count), atomically and before the password is checked: after `max_failures` in
  the window, that pair is refused without checking the password until the window has passed
  (`LoginLimiter`). The client address is the peer's, or behind a trusted proxy the one it
  reports (bot/network.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from bot.clock import utc_now
from bot.db.models import AdminSession, AdminUser, LoginFailure
from bot.db.session import Database
from bot.desk.new_rows import add_new
from bot.errors import UserFacingError

MIN_PASSWORD_LENGTH: Final = 12
#: `admin_users.source` of an account single sign-on made.
SSO_SOURCE: Final = "sso"
MAX_PASSWORD_LENGTH: Final = 1024
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_HASHER: Final = PasswordHasher()
# Verified against when the email is unknown, so that a wrong email takes as long as a wrong
# password and timing does not reveal which accounts exist.
_DUMMY_HASH: Final = _HASHER.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str) -> None:
    """Length is what matters (NCSC): at least 12 characters, no other composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserFacingError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserFacingError(f"A password may have at most {MAX_PASSWORD_LENGTH} characters.")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise UserFacingError(f"{email!r} does not look like an email address.")
    return email


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class AdminView:
    id: int
    email: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, row: AdminUser) -> AdminView:
        return cls(row.id, row.email, row.is_active, row.created_at, row.last_login_at)


class AdminAccounts:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def add(self, email: str, password: str | None) -> AdminView:
        """Create an account; `password` None makes one that can only use single sign-on."""
        email = normalise_email(email)
        row = AdminUser(
            email=email,
            password_hash=hash_password(password) if password is not None else None,
            is_active=True,
            created_at=self._clock(),
        )
        added = await add_new(self._db, row, f"There is already an admin account for {email}.")
        return AdminView.of(added)

    async def set_password(self, email: str, password: str) -> None:
        hashed = hash_password(password)
        async with self._db.transaction() as session:
            result = await session.execute(
                update(AdminUser)
                .where(AdminUser.email == normalise_email(email))
                .values(password_hash=hashed, is_active=True)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise UserFacingError(f"There is no admin account for {email}.")
            admin_id = await session.scalar(
                select(AdminUser.id).where(AdminUser.email == normalise_email(email))
            )
            await session.execute(delete(AdminSession).where(AdminSession.admin_id == admin_id))

    async def deactivate(self, email: str) -> None:
        async with self._db.transaction() as session:
            admin_id = await session.scalar(
                select(AdminUser.id).where(AdminUser.email == normalise_email(email))
            )
            if admin_id is None:
                raise UserFacingError(f"There is no admin account for {email}.")
            await session.execute(
                update(AdminUser).where(AdminUser.id == admin_id).values(is_active=False)
            )
            await session.execute(delete(AdminSession).where(AdminSession.admin_id == admin_id))

    async def list(self) -> list[AdminView]:
        async with self._db.transaction() as session:
            rows = await session.scalars(select(AdminUser).order_by(AdminUser.email))
            return [AdminView.of(r) for r in rows]

    async def check_password(self, email: str, password: str) -> AdminView | None:
        """The active account whose password this is, or None (in about the same time)."""
        async with self._db.transaction() as session:
            row = await session.scalar(select(AdminUser).where(AdminUser.email == email))
            if row is None or not row.is_active or not row.password_hash:
                verify_password(_DUMMY_HASH, password)
                return None
            if not verify_password(row.password_hash, password):
                return None
            if _HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = _HASHER.hash(password)
            row.last_login_at = self._clock()
            return AdminView.of(row)

    async def for_sign_in(self, email: str, granted: bool) -> AdminView | None:
        """The console account of someone who signed in with single sign-on, or None.

        `granted` is whether the identity provider (a role or group claim) or the allow-list
        makes them an admin. An account made with `evidence-desk admin add` is enough on its
        own; one single sign-on made lasts only while the grant does; a deactivated account
        is never used, whatever the grant says."""
        email = normalise_email(email)
        now = self._clock()
        for _ in range(2):  # a second try if another worker made the account at the same time
            try:
                async with self._db.transaction() as session:
                    row = await session.scalar(select(AdminUser).where(AdminUser.email == email))
                    if row is None:
                        if not granted:
                            return None
                        row = AdminUser(
                            email=email, is_active=True, created_at=now, source=SSO_SOURCE
                        )
                        session.add(row)
                    elif not row.is_active or (row.source == SSO_SOURCE and not granted):
                        return None
                    row.last_login_at = now
                    await session.flush()
                    return AdminView.of(row)
            except IntegrityError:
                continue
        return None

    async def by_email(self, email: str) -> AdminView | None:
        async with self._db.transaction() as session:
            row = await session.scalar(select(AdminUser).where(AdminUser.email == email))
            return AdminView.of(row) if row is not None and row.is_active else None


class LoginLimiter:
    """At most `max_failures` password checks per email and client address in the window.

    An attempt is counted *before* the password is checked, in one transaction with the
    count (`reserve`): counted as a failure until the password proves right, when the pair's
    count is cleared. So parallel attempts cannot all pass a count taken before any of them
    failed. The transaction is what makes count-and-insert atomic across replicas: SQLite
    runs every write transaction alone (BEGIN IMMEDIATE), and PostgreSQL takes a transaction
    advisory lock on the pair first.

    Counting per email *and* address means an attacker's failures lock out only their own
    address for that account: the real admin, from their address, can still sign in (with
    EVIDENCE_DESK_WEB_TRUSTED_PROXIES set behind a proxy, so that addresses differ)."""

    def __init__(
        self,
        db: Database,
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self.max_failures = max_failures
        self.window = window
        self._clock = clock

    async def reserve(self, email: str, ip: str) -> bool:
        """Count one attempt for the pair if it has any left in the window; False if not."""
        email, ip = email[:320], ip[:64]
        now = self._clock()
        async with self._db.transaction() as session:
            if self._db.dialect == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(email, ip)}
                )
            count = await session.scalar(
                select(func.count())
                .select_from(LoginFailure)
                .where(
                    LoginFailure.email == email,
                    LoginFailure.ip == ip,
                    LoginFailure.at > now - self.window,
                )
            )
            if int(count or 0) >= self.max_failures:
                return False
            session.add(LoginFailure(email=email, ip=ip, at=now))
            # Old rows are no use to the limit; keep the table small.
            await session.execute(
                delete(LoginFailure).where(LoginFailure.at < now - 4 * self.window)
            )
            return True

    async def clear(self, email: str, ip: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                delete(LoginFailure).where(
                    LoginFailure.email == email[:320], LoginFailure.ip == ip[:64]
                )
            )


def _lock_key(email: str, ip: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock, the same for the pair on every replica."""
    digest = hashlib.sha256(f"login\x00{email}\x00{ip}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class LoginResult:
    admin: AdminView | None = None
    #: Shown to the person: deliberately the same for an unknown email and a wrong password.
    error: str | None = None
    rate_limited: bool = False


class Authenticator(Protocol):
    """A way of proving who an admin is. The console calls `authenticate` with what the sign-in
    form (or, for single sign-on, the identity provider's callback) sent, and starts a session
    for the account it returns. An SSO implementation would also add its redirect and callback
    routes; it must still map the verified identity to an active `admin_users` row."""

    async def authenticate(self, credentials: Mapping[str, str], ip: str) -> LoginResult: ...


WRONG_CREDENTIALS: Final = "The email address or password is not right."


class PasswordAuthenticator:
    def __init__(self, accounts: AdminAccounts, limiter: LoginLimiter) -> None:
        self.accounts = accounts
        self.limiter = limiter

    async def authenticate(self, credentials: Mapping[str, str], ip: str) -> LoginResult:
        raw_email = (credentials.get("email") or "").strip().lower()[:320]
        password = credentials.get("password") or ""
        if not await self.limiter.reserve(raw_email, ip):
            minutes = int(self.limiter.window.total_seconds() // 60)
            return LoginResult(
                error=f"Too many failed attempts. Please wait {minutes} minutes and try again.",
                rate_limited=True,
            )
        admin = None
        if raw_email and password and len(password) <= MAX_PASSWORD_LENGTH:
            admin = await self.accounts.check_password(raw_email, password)
        if admin is None:
            return LoginResult(error=WRONG_CREDENTIALS)  # the reserved attempt stays counted
        await self.limiter.clear(raw_email, ip)
        return LoginResult(admin=admin)


@dataclass(frozen=True)
class Session:
    id: int
    admin: AdminView
    csrf_token: str
    expires_at: datetime


SPECIALIST: Final = "specialist"
REQUESTER: Final = "requester"


@dataclass(frozen=True)
class SignedInPerson:
    """Someone the identity provider vouched for, with what they may do here: `user_id` is
    their web chat identity, `role` SPECIALIST or REQUESTER, `admin` their console account
    if they may use the console."""

    user_id: str
    email: str
    role: str
    admin: AdminView | None


@dataclass(frozen=True)
class PersonSession:
    id: int
    user_id: str
    email: str
    role: str
    admin: AdminView | None
    csrf_token: str
    expires_at: datetime


#: What `SessionStore._find` makes of a session row: a console `Session` or a `PersonSession`.
_View = TypeVar("_View", Session, PersonSession)


class SessionStore:
    def __init__(
        self,
        db: Database,
        lifetime: timedelta = timedelta(hours=8),
        idle: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self.lifetime = lifetime
        self.idle = idle
        self._clock = clock

    async def start(self, admin: AdminView) -> tuple[str, Session]:
        """A new session for `admin`; returns the cookie token (stored only as a hash)."""
        token, row = await self._start(admin_id=admin.id)
        return token, Session(row.id, admin, row.csrf_token, row.expires_at)

    async def start_person(self, person: SignedInPerson) -> tuple[str, PersonSession]:
        """A new single sign-on session: the web chat's, and the console's too when
        `person.admin` is set. Returns the cookie token (stored only as a hash)."""
        token, row = await self._start(
            admin_id=person.admin.id if person.admin else None,
            user_id=person.user_id,
            email=person.email,
            role=person.role,
        )
        return token, PersonSession(
            row.id, person.user_id, person.email, person.role, person.admin, row.csrf_token,
            row.expires_at,
        )  # fmt: skip

    async def _start(self, **columns: object) -> tuple[str, AdminSession]:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        row = AdminSession(
            token_hash=token_hash(token),
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.lifetime,
            **columns,
        )
        async with self._db.transaction() as session:
            session.add(row)
            await session.execute(delete(AdminSession).where(AdminSession.expires_at < now))
            await session.flush()
        return token, row

    def _live(self, row: AdminSession, now: datetime, touch: bool) -> bool:
        """Whether a session is within its lifetime and idle limit; `touch` marks it used."""
        if row.expires_at <= now or row.last_seen_at + self.idle <= now:
            return False
        if touch and now - row.last_seen_at > timedelta(minutes=1):
            row.last_seen_at = now
        return True

    async def load(self, token: str) -> Session | None:
        """The live console session behind a cookie, or None if it is unknown, expired, idle,
        or a single sign-on session of someone who may not use the console."""
        return await self._find(token, self._console_view, touch=True)

    async def load_person(self, token: str, *, touch: bool = True) -> PersonSession | None:
        """The live single sign-on session behind a cookie, or None. `touch=False` for what a
        page does on its own (polling), which must not keep an unused session alive."""
        return await self._find(token, self._person_view, touch=touch)

    @staticmethod
    def _console_view(row: AdminSession, admin: AdminUser | None) -> Session | None:
        if admin is None:
            return None  # single sign-on of someone who may not use the console
        return Session(row.id, AdminView.of(admin), row.csrf_token, row.expires_at)

    @staticmethod
    def _person_view(row: AdminSession, admin: AdminUser | None) -> PersonSession | None:
        if row.user_id is None or row.email is None:
            return None  # a password session: the console's only
        return PersonSession(
            row.id, row.user_id, row.email, row.role or REQUESTER,
            AdminView.of(admin) if admin is not None else None, row.csrf_token,
            row.expires_at,
        )  # fmt: skip

    async def _find(
        self,
        token: str,
        view: Callable[[AdminSession, AdminUser | None], _View | None],
        *,
        touch: bool,
    ) -> _View | None:
        """The session behind a cookie as `view` makes it of the row and its console account
        (None for a session of another kind, which is left alone). One past its lifetime or
        idle limit, or whose console account was deactivated, is deleted: the two kinds of
        session share one table, so they must die by the same rules."""
        if not token or len(token) > 200:
            return None
        now = self._clock()
        async with self._db.transaction() as session:
            found = (
                await session.execute(
                    select(AdminSession, AdminUser)
                    .outerjoin(AdminUser, AdminUser.id == AdminSession.admin_id)
                    .where(AdminSession.token_hash == token_hash(token))
                )
            ).first()
            if found is None:
                return None
            row, admin = found
            viewed = view(row, admin)
            if viewed is None:
                return None
            if not self._live(row, now, touch) or (admin is not None and not admin.is_active):
                await session.delete(row)
                return None
            return viewed

    async def end(self, token: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                delete(AdminSession).where(AdminSession.token_hash == token_hash(token))
            )
