"""Shared fixtures: the real shipped KB, the real matcher, and small KB folders made per test."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bot.config import Settings
from handlers.answers import Answerer
from knowledge import SHIPPED_KB_DIR
from knowledge.embeddings import load_embedder
from knowledge.store import KnowledgeStore
from tests.fakes.bot_connector import FakeBotConnector

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
def shipped_store() -> KnowledgeStore:
    """The shipped KB with the matcher the bot runs by default: hybrid, with the packaged model
    (loaded once per process and shared by every test that asks for it)."""
    return KnowledgeStore.from_directory(
        SHIPPED_KB_DIR, embedder=load_embedder(Settings().embedding_model)
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
