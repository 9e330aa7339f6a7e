"""Knowledge-base versions in the database: publish, history, diff, rollback, files both ways.

A version is the whole KB content as text (each entry's Markdown file, and the site profile,
synonyms and out-of-scope YAML), so exactly what `kb validate` reads is what is stored and
checked: `KbContent.build` runs the loader's own `build_knowledge_base` on it. Nothing is ever
changed in place: publishing, importing files and rolling back each add a version, and the
latest version is what every worker answers from; with none, the KB files are (the rule is
`bot.desk.kb_sync`'s).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import yaml
from sqlalchemy import func, select

from bot.clock import utc_now
from bot.db.models import KbEntryText, KbVersion
from bot.db.session import Database
from knowledge import yamlio
from knowledge.loader import (
    SourceFile,
    build_knowledge_base,
    parse_out_of_scope,
    parse_synonyms,
    read_site,
)
from knowledge.models import KnowledgeBase, Problem, Severity

log = logging.getLogger(__name__)

SITE_FILE: Final = "site.yaml"
SYNONYMS_FILE: Final = "synonyms.yaml"
OUT_OF_SCOPE_FILE: Final = "out_of_scope.yaml"
PROFILE_FILES: Final = (SITE_FILE, SYNONYMS_FILE, OUT_OF_SCOPE_FILE)
MAX_NOTE: Final = 500


def entry_file(entry_id: str) -> str:
    """The name an entry has in problems, diffs and exported folders."""
    return f"faqs/{entry_id}.md"


class KbInvalid(Exception):
    """The content would not load; `problems` says why, file by file and line by line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity is Severity.ERROR]
        super().__init__(f"{len(errors)} error(s); first: {errors[0] if errors else '?'}")


class VersionConflict(Exception):
    """The entry was changed by someone else since the editor was opened."""


def _load_yaml(text: str, name: str, problems: list[Problem]) -> Any:
    if not text.strip():
        return None
    try:
        return yamlio.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.append(Problem(name, line, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None


@dataclass(frozen=True)
class KbContent:
    """A whole KB as the text of its files."""

    entries: Mapping[str, str]
    site: str = ""
    synonyms: str = ""
    out_of_scope: str = ""

    def files(self) -> dict[str, str]:
        """Every file by its relative path, profiles first, entries in id order."""
        result = {SITE_FILE: self.site, SYNONYMS_FILE: self.synonyms}
        result[OUT_OF_SCOPE_FILE] = self.out_of_scope
        for entry_id in sorted(self.entries):
            result[entry_file(entry_id)] = self.entries[entry_id]
        return result

    def with_entry(self, entry_id: str, text: str) -> KbContent:
        return KbContent(
            {**self.entries, entry_id: text}, self.site, self.synonyms, self.out_of_scope
        )

    def without_entry(self, entry_id: str) -> KbContent:
        entries = {k: v for k, v in self.entries.items() if k != entry_id}
        return KbContent(entries, self.site, self.synonyms, self.out_of_scope)

    def with_file(self, name: str, text: str) -> KbContent:
        """The same content with one profile file (site, synonyms, out of scope) replaced."""
        if name not in PROFILE_FILES:
            raise ValueError(f"not a profile file: {name}")
        return KbContent(
            self.entries,
            text if name == SITE_FILE else self.site,
            text if name == SYNONYMS_FILE else self.synonyms,
            text if name == OUT_OF_SCOPE_FILE else self.out_of_scope,
        )

    def file_text(self, name: str) -> str:
        return self.files().get(name, "")

    def build(self, today: date | None = None) -> tuple[KnowledgeBase | None, list[Problem]]:
        """Check and assemble with the loader's own rules: a KB only if there is no error."""
        today = today or date.today()
        problems: list[Problem] = []
        if not self.site.strip():
            problems.append(Problem(SITE_FILE, 1, "file is missing"))
        site, search_links = read_site(
            _load_yaml(self.site, SITE_FILE, problems), self.site, SITE_FILE, problems
        )
        synonyms = parse_synonyms(
            _load_yaml(self.synonyms, SYNONYMS_FILE, problems), SYNONYMS_FILE, problems
        )
        out_of_scope = parse_out_of_scope(
            _load_yaml(self.out_of_scope, OUT_OF_SCOPE_FILE, problems), OUT_OF_SCOPE_FILE, problems
        )
        sources = [SourceFile(entry_file(k), self.entries[k]) for k in sorted(self.entries)]
        kb = build_knowledge_base(
            sources, site, synonyms, out_of_scope, problems, today, search_links=search_links
        )
        return kb, problems

    @classmethod
    def from_directory(cls, directory: Path) -> KbContent:
        """Read a KB folder as text (no checks: `build` does those). Entries are keyed by
        file name, so an id that does not match its file name is reported when built."""
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"{directory} is not a folder")

        def read(name: str) -> str:
            path = directory / name
            return path.read_text(encoding="utf-8") if path.is_file() else ""

        entries = {
            path.stem: path.read_text(encoding="utf-8")
            for path in sorted((directory / "faqs").glob("*.md"))
        }
        return cls(entries, read(SITE_FILE), read(SYNONYMS_FILE), read(OUT_OF_SCOPE_FILE))

    def write_directory(self, directory: Path) -> list[Path]:
        """Write every file; entries no longer in the content are removed from `faqs/`.
        Other files in the folder (clinical_terms.yaml, README.md) are left alone."""
        directory = Path(directory)
        (directory / "faqs").mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in self.files().items():
            if name in PROFILE_FILES and not text:
                continue
            path = directory / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        keep = {entry_file(k) for k in self.entries}
        for path in (directory / "faqs").glob("*.md"):
            if f"faqs/{path.name}" not in keep:
                path.unlink()
        return written


@dataclass(frozen=True)
class VersionInfo:
    id: int
    created_at: datetime
    author: str
    note: str
    entry_count: int = 0


@dataclass(frozen=True)
class FileDiff:
    """One changed file between two versions: `lines` is a unified diff without its header."""

    name: str
    status: str  # "added", "removed" or "changed"
    lines: tuple[str, ...] = field(default=())


def diff(old: KbContent, new: KbContent) -> list[FileDiff]:
    """What changed from `old` to `new`, file by file (difflib's unified diff)."""
    before, after = old.files(), new.files()
    result = []
    for name in sorted(set(before) | set(after), key=lambda n: (n.startswith("faqs/"), n)):
        a, b = before.get(name), after.get(name)
        if a == b or (not a and not b):
            continue
        status = "added" if not a else "removed" if not b else "changed"
        lines = difflib.unified_diff(
            (a or "").splitlines(), (b or "").splitlines(), lineterm="", n=2
        )
        body = tuple(line for line in lines if not line.startswith(("---", "+++")))
        result.append(FileDiff(name, status, body))
    return result


class KbVersions:
    """The versions table: read, publish (validated), roll back.

    `files` is the KB folder the server answers from while nothing is published: the
    console's editor starts from it (`current`), and the first publish records it as a
    version of its own first, so that first edit can be rolled back like any other.
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = utc_now,
        today: Callable[[], date] = date.today,
        *,
        files: Path | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._today = today
        self.files = files

    async def latest_id(self) -> int | None:
        async with self._db.transaction() as session:
            latest: int | None = await session.scalar(select(func.max(KbVersion.id)))
            return latest

    async def list(self, limit: int = 100) -> list[VersionInfo]:
        counts = (
            select(KbEntryText.version_id, func.count().label("n"))
            .group_by(KbEntryText.version_id)
            .subquery()
        )
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(KbVersion, counts.c.n)
                    .outerjoin(counts, counts.c.version_id == KbVersion.id)
                    .order_by(KbVersion.id.desc())
                    .limit(limit)
                )
            ).all()
        return [VersionInfo(v.id, v.created_at, v.author, v.note, int(n or 0)) for v, n in rows]

    async def get(self, version_id: int) -> tuple[VersionInfo, KbContent] | None:
        async with self._db.transaction() as session:
            version = await session.get(KbVersion, version_id)
            if version is None:
                return None
            entries = {
                row.entry_id: row.text
                for row in await session.scalars(
                    select(KbEntryText).where(KbEntryText.version_id == version_id)
                )
            }
        info = VersionInfo(
            version.id, version.created_at, version.author, version.note, len(entries)
        )
        content = KbContent(
            entries, version.site_text, version.synonyms_text, version.out_of_scope_text
        )
        return info, content

    async def latest(self) -> tuple[VersionInfo, KbContent] | None:
        latest = await self.latest_id()
        return None if latest is None else await self.get(latest)

    async def current(self) -> tuple[VersionInfo | None, KbContent]:
        """What the bot answers from: the latest version, else the files (no version info)."""
        latest = await self.latest()
        if latest is not None:
            return latest
        if self.files is not None and self.files.is_dir():
            return None, KbContent.from_directory(self.files)
        return None, KbContent({})

    async def publish(
        self, content: KbContent, author: str, note: str = ""
    ) -> tuple[VersionInfo, KnowledgeBase]:
        """Store `content` as the new latest version if it builds without errors; raises
        `KbInvalid` (nothing stored) otherwise."""
        kb, problems = content.build(self._today())
        if kb is None:
            raise KbInvalid(problems)
        await self._record_files_first()
        return await self._store(content, kb, author, note)

    async def _record_files_first(self) -> None:
        """Before the first version: the files answered from until now become version 1."""
        if self.files is None or await self.latest_id() is not None:
            return
        files = KbContent.from_directory(self.files) if self.files.is_dir() else None
        built = files.build(self._today())[0] if files is not None else None
        if files is None or built is None:
            return  # nothing good to roll back to; the new version simply comes first
        await self._store(files, built, "system", f"The files in {self.files}")

    async def _store(
        self, content: KbContent, kb: KnowledgeBase, author: str, note: str
    ) -> tuple[VersionInfo, KnowledgeBase]:
        now = self._clock()
        async with self._db.transaction() as session:
            version = KbVersion(
                created_at=now,
                author=author[:320],
                note=note.strip()[:MAX_NOTE],
                site_text=content.site,
                synonyms_text=content.synonyms,
                out_of_scope_text=content.out_of_scope,
            )
            session.add(version)
            await session.flush()
            session.add_all(
                KbEntryText(version_id=version.id, entry_id=entry_id, text=text)
                for entry_id, text in content.entries.items()
            )
        info = VersionInfo(version.id, now, version.author, version.note, len(content.entries))
        log.info("knowledge base version %s published by %s", info.id, author)
        return info, kb

    async def publish_entry(
        self,
        entry_id: str,
        text: str,
        author: str,
        note: str = "",
        *,
        base_version: int | None = None,
        previous_id: str | None = None,
    ) -> tuple[VersionInfo, KnowledgeBase]:
        """Publish the latest content with one entry added, replaced or renamed (from
        `previous_id`).

        `base_version` is the version the editor was opened on: if the entry has changed since
        then, `VersionConflict` is raised rather than overwriting someone else's edit. Other
        entries' changes in between are kept.
        """
        content = await self.entry_change(
            entry_id, text, base_version=base_version, previous_id=previous_id
        )
        return await self.publish(content, author, note)

    async def entry_change(
        self,
        entry_id: str,
        text: str | None,
        *,
        base_version: int | None = None,
        previous_id: str | None = None,
    ) -> KbContent:
        """The latest content with one entry changed (`text` None removes it); checked for
        conflicts as `publish_entry` describes, but not stored."""
        info, content = await self.current()
        original = previous_id or entry_id
        opened_on_files = base_version is None and self.files is not None
        checked = base_version is not None or opened_on_files
        if info is not None and info.id != base_version and checked:
            if base_version is None:
                before = self._file_entry(original)
            else:
                base = await self.get(base_version)
                before = base[1].entries.get(original) if base else None
            if content.entries.get(original) != before:
                raise VersionConflict(
                    f"'{original}' was changed in version {info.id} after you opened it."
                )
        if previous_id and previous_id != entry_id:
            content = content.without_entry(previous_id)
        if text is None:
            return content.without_entry(entry_id)
        return content.with_entry(entry_id, text)

    def _file_entry(self, entry_id: str) -> str | None:
        """An entry as the files have it: the base of an editor opened before any publish."""
        if self.files is None:
            return None
        path = self.files / entry_file(entry_id)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    async def rollback(self, version_id: int, author: str) -> tuple[VersionInfo, KnowledgeBase]:
        """Publish an old version's content again, as a new version."""
        found = await self.get(version_id)
        if found is None:
            raise LookupError(f"there is no knowledge base version {version_id}")
        return await self.publish(found[1], author, f"Rollback to version {version_id}")

    async def import_directory(
        self, directory: Path, author: str, note: str = ""
    ) -> tuple[VersionInfo, KnowledgeBase]:
        content = KbContent.from_directory(directory)
        return await self.publish(content, author, note or f"Imported from {directory}")


async def published_knowledge(db: Database) -> tuple[int, KnowledgeBase] | None:
    """The latest published version and its knowledge base, as the server answers from it;
    None when nothing has been published (or it no longer builds)."""
    found = await KbVersions(db).latest()
    if found is None:
        return None
    kb, _ = found[1].build()
    return None if kb is None else (found[0].id, kb)
