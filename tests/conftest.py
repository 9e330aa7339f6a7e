"""Shared fixtures: the real shipped KB, the real matcher, small KB folders made per test, the
migrated test databases (tests/databases.py), and the test tiers.

Tiers: tests under tests/fault (real server processes) and tests/browser (Chromium) are marked
`slow` here, as is any test marked by hand; `pytest -m "not slow"` is the inner loop.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from handlers.answers import Answerer
from knowledge import SHIPPED_KB_DIR
from knowledge.embeddings import load_embedder
from knowledge.loader import read_directory
from knowledge.models import KnowledgeBase, KnowledgeBaseInvalid
from knowledge.store import KnowledgeSnapshot, KnowledgeStore, build_index
from tests.databases import (
    MigratedPostgres,
    copy_database_file,
    find_postgres,
    migrated_postgres_database,
    migrated_sqlite_file,
    postgres_server,
    skip_reason,
)
from tests.fakes.bot_connector import FakeBotConnector
from tests.teams_world import TeamsWorld, build_app, without_teams_variables

#: Directories whose every test is slow: real processes, a real browser.
SLOW_DIRECTORIES = ("fault", "browser")
#: Settings that name a directory which every process of one test run shares: pytest, its
#: xdist workers, and the CLI processes and servers the tests start (they inherit the
#: environment). EVIDENCE_DESK_CACHE_DIR keeps derived data between processes (the KB's
#: sentence vectors, the drug list), so each start reads what the first one computed, and the
#: developer's own cache is never touched. Made once per run, by the controlling process (xdist
#: starts its workers after this), and removed after it.
SHARED_DIRECTORIES = ("EVIDENCE_DESK_CACHE_DIR",)


def pytest_configure(config: pytest.Config) -> None:
    find_postgres()
    if not hasattr(config, "workerinput"):  # an xdist worker has the controller's already
        for variable in SHARED_DIRECTORIES:
            os.environ[variable] = tempfile.mkdtemp(prefix=f"{variable.lower()}-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        for variable in SHARED_DIRECTORIES:
            shutil.rmtree(os.environ.pop(variable, ""), ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow directories; under pytest-xdist (`-n 2 --dist loadgroup`) each of them runs
    on one worker, so one Chromium serves a browser module and no two fault tests' servers
    compete for the two cores while their bounded waits run."""
    tests = Path(__file__).parent
    for item in items:
        for name in SLOW_DIRECTORIES:
            if tests / name in item.path.parents:
                item.add_marker(pytest.mark.slow)
                item.add_marker(pytest.mark.xdist_group(name))


def pytest_report_header(config: pytest.Config) -> str:
    server = postgres_server()
    return f"PostgreSQL tests: on {server}" if server else skip_reason()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if postgres_server() is None:
        terminalreporter.write_line(skip_reason(), yellow=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; tests copy it (tests/databases.py)."""
    return migrated_sqlite_file(tmp_path_factory.mktemp("template") / "migrated.sqlite3")


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of this test's own migrated SQLite file (a copy of the template), as a server
    is configured with it (`sqlite:///...`); an app migrating at start finds it at head."""
    copy_database_file(sqlite_template, tmp_path / "desk.sqlite3")
    return f"sqlite:///{tmp_path / 'desk.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[MigratedPostgres]:
    """One freshly created and migrated PostgreSQL database for this test session."""
    server = postgres_server()
    if server is None:
        pytest.skip(skip_reason())
    with migrated_postgres_database(server, "evidence_desk_test") as database:
        yield database


@pytest.fixture
def postgres_url(migrated_postgres: MigratedPostgres) -> str:
    return migrated_postgres.url


TODAY = date(2026, 11, 22)

SITE_YAML = """\
library_name: Test Library
library_email: library@test.nhs.uk
library_phone: 01234 000000
opening_hours: 9 to 5
"""


def entry_text(
    entry_id: str = "sample-entry",
    *,
    title: str = "A sample entry",
    category: str = "library",
    questions: tuple[str, ...] = ("how do I borrow a book", "borrowing books from the library"),
    body: str = "Ask at the desk or email {{library_email}}.",
    extra: str = "",
    links: str = "  - title: Source\n    url: https://example.nhs.uk/source\n",
) -> str:
    question_lines = "".join(f"  - {q}\n" for q in questions)
    return (
        "---\n"
        f"id: {entry_id}\n"
        f"title: {title}\n"
        f"category: {category}\n"
        f"questions:\n{question_lines}"
        f"links:\n{links}"
        "owner: Library team\n"
        "reviewed: 2026-10-01\n"
        "review_by: 2027-10-01\n"
        f"{extra}"
        "---\n"
        f"{body}\n"
    )


@dataclass
class KbFolder:
    path: Path

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text) if text.startswith("\n") else text)
        return target


@pytest.fixture
def kb_folder(tmp_path: Path) -> KbFolder:
    """A minimal valid KB: a site profile and one entry; tests add or break files."""
    folder = KbFolder(tmp_path / "kb")
    folder.write("site.yaml", SITE_YAML)
    folder.write("synonyms.yaml", "synonyms:\n  library: [libary]\n")
    folder.write("faqs/sample-entry.md", entry_text())
    return folder


@pytest.fixture(scope="session")
def shipped_kb() -> KnowledgeBase:
    """The shipped KB, read and validated once per session (0.25 s a read: its YAML)."""
    kb, problems = read_directory(SHIPPED_KB_DIR)
    if kb is None:
        raise KnowledgeBaseInvalid(problems)
    return kb


@pytest.fixture
def lexical_store(shipped_kb: KnowledgeBase) -> KnowledgeStore:
    """A store of the test's own on the shipped KB with the lexical matcher, as
    `KnowledgeStore.from_directory(SHIPPED_KB_DIR)` makes, without reading the files again."""
    return KnowledgeStore(
        KnowledgeSnapshot(shipped_kb, build_index(shipped_kb, None)), SHIPPED_KB_DIR
    )


@pytest.fixture(scope="session")
def shipped_store() -> KnowledgeStore:
    """The shipped KB with the matcher the bot runs by default: hybrid, with the packaged model
    (loaded once per process and shared by every test that asks for it). Loaded as the bot
    loads it, with the run's cache directory, so that it is the very model an app or command
    made in this process uses, and the KB's vectors are computed once for the whole run."""
    settings = Settings()
    return KnowledgeStore.from_directory(
        SHIPPED_KB_DIR,
        embedder=load_embedder(
            settings.embedding_model, settings.cache_dir, settings.embedding_compute
        ),
    )


@pytest.fixture(scope="session")
def answerer(shipped_store: KnowledgeStore) -> Answerer:
    """What the bot says from the shipped KB alone (no database): for the many cases a rule
    is checked on. Dialogues with the whole desk use tests/dialogue.py."""
    return Answerer(shipped_store, Settings(kb_dir=SHIPPED_KB_DIR), today=lambda: TODAY)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        return Settings(**overrides)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    """A fake Bot Framework connector on a random loopback port (tests/fakes/bot_connector.py),
    for every test that speaks Teams."""
    fake = FakeBotConnector()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def teams(
    aiohttp_client: Any,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    connector: FakeBotConnector,
) -> TeamsWorld:
    """The whole app with Teams in local mode (no App ID), over HTTP, answering through the fake
    connector (tests/teams_world.py)."""
    without_teams_variables(monkeypatch)
    app = build_app(sqlite_url)
    return TeamsWorld(await aiohttp_client(app), connector, app)
