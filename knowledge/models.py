"""The shapes of knowledge-base content once it has been read and checked."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

CATEGORIES = frozenset(
    {"openathens", "library", "services", "training", "resources", "policy", "about", "bot"}
)


@dataclass(frozen=True)
class Link:
    """An authoritative source shown under an answer, so readers can check it."""

    title: str
    url: str


@dataclass(frozen=True)
class FaqEntry:
    """One curated answer, with the many ways people ask for it.

    `answer` has the site placeholders filled; `answer_template` keeps them so the admin tools can
    edit and export the reviewable form.
    """

    id: str
    title: str
    category: str
    questions: tuple[str, ...]
    answer: str
    links: tuple[Link, ...]
    owner: str
    reviewed: date
    review_by: date
    answer_template: str = ""
    source: str = ""

    def review_overdue(self, today: date) -> bool:
        return self.review_by < today


#: Where a search link's template takes the topic.
TOPIC_SLOT = "{topic}"


@dataclass(frozen=True)
class SearchLink:
    """A place a requester can search for themselves while a specialist works on the request.

    `url_template` holds `{topic}` where the URL-encoded topic goes; it is read from site.yaml
    because each library points at its own instance of the Knowledge and Library Hub.
    """

    name: str
    url_template: str

    def url_for(self, encoded_topic: str) -> str:
        return self.url_template.replace(TOPIC_SLOT, encoded_topic)


@dataclass(frozen=True)
class OutOfScopeTopic:
    """Something people ask a library bot that belongs to another service (IT, rotas, parking).

    Held as data so that the matcher can recognise it and say where to go instead of forcing the
    nearest library answer onto it.
    """

    id: str
    redirect: str
    questions: tuple[str, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """A validation finding, printed as `FILE:LINE: message` like a compiler error."""

    file: str
    line: int
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "" if self.severity is Severity.ERROR else "warning: "
        return f"{self.file}:{self.line}: {prefix}{self.message}"


@dataclass(frozen=True)
class KnowledgeBase:
    """A complete, validated set of KB content: what the bot answers from at one moment."""

    entries: tuple[FaqEntry, ...]
    site: Mapping[str, str]
    synonyms: Mapping[str, tuple[str, ...]]
    out_of_scope: tuple[OutOfScopeTopic, ...] = ()
    source_dir: Path | None = None
    search_links: tuple[SearchLink, ...] = ()
    _by_id: dict[str, FaqEntry] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({entry.id: entry for entry in self.entries})

    def get(self, entry_id: str) -> FaqEntry | None:
        return self._by_id.get(entry_id)

    @property
    def version(self) -> str:
        """A short content hash: two workers answering from the same content report the same one."""
        digest = hashlib.sha256()
        for entry in sorted(self.entries, key=lambda e: e.id):
            digest.update(repr((entry.id, entry.questions, entry.answer, entry.links)).encode())
        digest.update(repr(sorted(self.synonyms.items())).encode())
        digest.update(repr([(t.id, t.questions) for t in self.out_of_scope]).encode())
        digest.update(repr(self.search_links).encode())
        return digest.hexdigest()[:12]


class KnowledgeBaseInvalid(Exception):
    """Raised when the KB has errors; carries them so the caller can print or show each one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity is Severity.ERROR]
        super().__init__(f"knowledge base has {len(errors)} error(s); first: {errors[0]}")
