"""Fixtures for the persistence and ticket tests: a migrated database, on SQLite and PostgreSQL.

`database` is parametrised over both backends. SQLite gets its own copy of a file migrated
once per session (tests/databases.py); PostgreSQL gets one database per session, migrated
once, emptied before each test. Engines are created and disposed inside each test's own event
loop, never shared between loops.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.config import Settings
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
from tests.app_settings import app_settings, url_of
from tests.databases import MigratedPostgres, copy_database_file, empty_postgres
from tests.dialogue import Dialogue
from tests.signed import TEST_SECRET_KEY, TEST_SIGNER
from tests.web_admin import add_admin

# A Monday in March 2026, before the clocks change: local time is UTC.
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest_asyncio.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A migrated, empty database; the test's own engine, disposed afterwards."""
    if request.param == "sqlite":
        db = Database.from_url(
            copy_database_file(sqlite_template, tmp_path / "evidence-desk.sqlite3")
        )
    else:
        postgres: MigratedPostgres = request.getfixturevalue("migrated_postgres")
        db = Database.from_url(postgres.url)
        await empty_postgres(db, postgres.reset)
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
#: The thread in WARD that a request is made from.
THREAD = "1700000000.000100"


@pytest.fixture
async def desk(database: Database, clock: FakeClock, lexical_store: KnowledgeStore) -> EvidenceDesk:
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
        answerer=Answerer(lexical_store, settings),
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


@pytest.fixture
async def client(
    database: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient[Any, Any]]:
    """The whole app (web chat and admin console, demo identities) over HTTP on `database`,
    with one admin account (tests/web_admin.py)."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVIDENCE_DESK_WEB_DEMO", "true")  # these tests use the demo's identities
    settings = app_settings(
        url_of(database),
        auto_migrate=False,
        secret_key=TEST_SECRET_KEY,  # the form state tests sign (tests/signed.py)
    )
    app = create_app(settings)
    await add_admin(database)
    yield await aiohttp_client(app)


@pytest.fixture
def sqlite_scratch(tmp_path: Path, sqlite_template: Path) -> Path:
    """A migrated SQLite file of the test's own with one more table, `scratch (n, note)`, for
    the tests of how SQLite is driven (locks, turns, the loop's thread), which need some row
    to write and no particular schema."""
    path = tmp_path / "scratch.sqlite3"
    copy_database_file(sqlite_template, path)
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE scratch (n INTEGER PRIMARY KEY, note TEXT NOT NULL)")
        connection.commit()
    return path
