"""The knowledge base the bot answers from right now, swapped whole when the files change.

A broken edit must never take the running bot down: a reload that finds errors keeps the last
good version and reports the problems, so the admin sees them and clinicians see nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from knowledge.embeddings import Embedder
from knowledge.hybrid import HybridIndex
from knowledge.index import FaqIndex
from knowledge.loader import read_directory
from knowledge.models import KnowledgeBase, KnowledgeBaseInvalid, Problem, Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeSnapshot:
    """A KB and the index built from it; replaced together so they never disagree."""

    kb: KnowledgeBase
    index: FaqIndex | HybridIndex


def build_index(kb: KnowledgeBase, embedder: Embedder | None) -> FaqIndex | HybridIndex:
    """The hybrid matcher when a sentence-embedding model is loaded, else the lexical one."""
    return FaqIndex(kb) if embedder is None else HybridIndex(kb, embedder)


def fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the KB files: cheap to compute every few seconds."""
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("faqs/*.md")])
    result = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        result.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(result)


class KnowledgeStore:
    def __init__(
        self,
        snapshot: KnowledgeSnapshot,
        directory: Path | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self._snapshot = snapshot
        self.embedder = embedder
        self.directory = directory
        self._fingerprint = fingerprint(directory) if directory else ()
        self.last_problems: list[Problem] = []

    @classmethod
    def from_directory(
        cls, directory: Path, today: date | None = None, embedder: Embedder | None = None
    ) -> KnowledgeStore:
        """Load at start; here an invalid KB is fatal, since there is no good version to keep.

        With an `embedder` the index is hybrid (lexical and semantic); without, lexical only.
        """
        kb, problems = read_directory(directory, today)
        if kb is None:
            raise KnowledgeBaseInvalid(problems)
        store = cls(KnowledgeSnapshot(kb, build_index(kb, embedder)), directory, embedder)
        store.last_problems = problems
        return store

    @property
    def current(self) -> KnowledgeSnapshot:
        return self._snapshot

    @property
    def matcher(self) -> str:
        """Which matcher answers, for /readyz and the logs."""
        return "lexical only" if self.embedder is None else "hybrid (lexical + semantic)"

    def replace(self, kb: KnowledgeBase) -> KnowledgeSnapshot:
        """Build the index first and swap in one assignment, so readers never see half a KB."""
        snapshot = KnowledgeSnapshot(kb, build_index(kb, self.embedder))
        self._snapshot = snapshot
        return snapshot

    def reload(self, today: date | None = None) -> list[Problem]:
        """Re-read the folder; on errors keep serving the last good KB and return the problems."""
        if self.directory is None:
            return []
        self._fingerprint = fingerprint(self.directory)
        kb, problems = read_directory(self.directory, today)
        self.last_problems = problems
        if kb is None:
            errors = [p for p in problems if p.severity is Severity.ERROR]
            log.error(
                "knowledge base reload refused (%d errors); still serving version %s. First: %s",
                len(errors),
                self._snapshot.kb.version,
                errors[0] if errors else "?",
            )
            return problems
        self.replace(kb)
        log.info("knowledge base reloaded: version %s, %d entries", kb.version, len(kb.entries))
        return problems

    def reload_if_changed(self) -> bool:
        """Reload when any KB file changed since the last look; True if a reload was attempted."""
        if self.directory is None or fingerprint(self.directory) == self._fingerprint:
            return False
        self.reload()
        return True
