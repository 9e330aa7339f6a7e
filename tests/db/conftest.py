"""Fixtures for the persistence and ticket tests: a migrated database, on SQLite and PostgreSQL.

`database` is parametrised over both backends. SQLite gets a fresh file per test under
tmp_path, migrated with the real `upgrade` (about 40 ms). PostgreSQL gets one fresh database
per test session (`evidence_desk_test_<random>`, created on the server named by
EVIDENCE_DESK_TEST_POSTGRES_URL, migrated once, dropped at the end) and every table is
truncated before each test. Engines are created and disposed inside each test's own event
loop, never shared between loops.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.config.database_url import normalize_database_url
from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.db.session import Database
from bot.delivery.outbox import Outbox
from bot.desk.feedback import FeedbackStore
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.routing import Identity, NewSpecialist, RoutingService, SpecialistView
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Origin, Person, Purpose, TicketDraft
from handlers.answers import Answerer
from handlers.desk import EvidenceDesk
from handlers.ticket_desk import TicketDesk
from knowledge import SHIPPED_KB_DIR
from knowledge.store import KnowledgeStore
from tests.dialogue import Dialogue
from tests.signed import TEST_SIGNER

POSTGRES_ENV = "EVIDENCE_DESK_TEST_POSTGRES_URL"
# A Monday in March 2026, before the clocks change: local time is UTC.
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

T = TypeVar("T")


def run_outside_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop in a private thread.

    Session fixtures are set up from inside a test's running event loop; a thread keeps
    their loop (and engines) separate from it.
    """
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(make()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly created and migrated PostgreSQL database for this test session."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(
            f"{POSTGRES_ENV} is not set, so the PostgreSQL variant is skipped "
            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres)"
        )
    server = normalize_database_url(server)
    name = f"evidence_desk_test_{secrets.token_hex(6)}"
    run_outside_loop(lambda: _admin(server, f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        run_outside_loop(lambda: upgrade(url))
        yield url
    finally:
        run_outside_loop(lambda: _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest_asyncio.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database; the test's own engine, disposed afterwards."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'evidence-desk.sqlite3'}"
        await upgrade(url)
        db = Database.from_url(url)
    else:
        db = Database.from_url(request.getfixturevalue("postgres_url"))
        await _truncate_all(db)
    try:
        yield db
    finally:
        await db.dispose()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def scanner() -> PrivacyScanner:
    return PrivacyScanner()


@pytest.fixture
def service(database: Database, scanner: PrivacyScanner, clock: FakeClock) -> TicketService:
    return TicketService(database, scanner, clock)


@pytest.fixture
def routing(database: Database, clock: FakeClock) -> RoutingService:
    return RoutingService(database, clock)


DRAFT = TicketDraft(
    requester=Person("slack", "U_REQ", "Dr Requester"),
    origin=Origin("slack", "C_WARD", "1700000000.000100"),
    question="Evidence on falls prevention in older inpatients",
    purpose=Purpose.SERVICE_DEVELOPMENT,
)


@pytest.fixture
def draft() -> Callable[..., TicketDraft]:
    """A valid intake form; pass field overrides."""

    def make(**changes: Any) -> TicketDraft:
        return replace(DRAFT, **changes)

    return make


@pytest.fixture
def add_specialists(
    routing: RoutingService,
) -> Callable[..., Coroutine[Any, Any, list[SpecialistView]]]:
    """Create `n` active specialists named Specialist 1..n, each with a Slack identity."""

    async def make(n: int, *, is_lead: bool = False) -> list[SpecialistView]:
        made = []
        for number in range(1, n + 1):
            made.append(
                await routing.add_specialist(
                    NewSpecialist(
                        display_name=f"Specialist {number}",
                        is_lead=is_lead,
                        identities=(Identity("slack", f"U_SPEC_{secrets.token_hex(3)}"),),
                    )
                )
            )
        return made

    return make


#: The ward channel routed to Sam Librarian, whose cards go to the library's queue channel.
WARD, QUEUE = "C_WARD", "C_LIBRARY"


@pytest.fixture
async def desk(database: Database, clock: FakeClock) -> EvidenceDesk:
    """The whole neutral core on the shipped KB: one specialist (Slack U_SPEC) for WARD."""
    scanner = PrivacyScanner()
    routing = RoutingService(database, clock)
    specialist = await routing.add_specialist(
        NewSpecialist("Sam Librarian", identities=(Identity("slack", "U_SPEC"),))
    )
    route = await routing.add_route(
        "slack", WARD, "Elderly care", notify_platform="slack", notify_channel_id=QUEUE
    )
    await routing.link(route.id, specialist.id)
    settings = Settings(kb_dir=SHIPPED_KB_DIR)
    return EvidenceDesk(
        answerer=Answerer(KnowledgeStore.from_directory(SHIPPED_KB_DIR), settings),
        requests=TicketDesk(
            TicketService(database, scanner, clock), routing, Outbox(database, clock), scanner,
            clock=clock, signer=TEST_SIGNER,
        ),
        feedback=FeedbackStore(database, scanner, "salt", clock),
        db=database,
    )  # fmt: skip


@pytest.fixture
async def dialogue(database: Database, clock: FakeClock, shipped_store: KnowledgeStore) -> Dialogue:
    """The whole desk as the server builds it, driven through the inbox and outbox
    (tests/dialogue.py), on the shipped KB with the hybrid matcher the bot runs by default."""
    return await Dialogue.start(database, clock, shipped_store)
