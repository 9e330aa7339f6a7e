"""Knowledge-base versions in the database: publish, validation, diff, rollback, files, sync."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.db.session import Database
from bot.desk.kb_sync import KbSync
from bot.desk.kb_versions import KbContent, KbInvalid, KbVersions, VersionConflict, diff
from bot.platforms.web.entries import from_markdown, to_markdown
from knowledge import SHIPPED_KB_DIR
from knowledge.store import KnowledgeStore
from tests.conftest import SITE_YAML, KbFolder, entry_text

# On or after the shipped KB's last review date, which these tests build (a later 'reviewed'
# would be an error: reviewed in the future).
TODAY = date(2026, 12, 2)


def small_kb() -> KbContent:
    return KbContent(
        {"sample-entry": entry_text(), "other-entry": entry_text("other-entry", title="Other")},
        site=SITE_YAML,
        synonyms="synonyms:\n  library: [libary]\n",
    )


@pytest.fixture
def versions(database: Database) -> KbVersions:
    return KbVersions(database, today=lambda: TODAY)


async def test_publishing_stores_a_version_that_reads_back_the_same(versions: KbVersions) -> None:
    assert await versions.latest_id() is None
    info, kb = await versions.publish(small_kb(), "admin@example.nhs.uk", "first")
    assert info.id == await versions.latest_id()
    assert [e.id for e in kb.entries] == ["other-entry", "sample-entry"]
    found = await versions.get(info.id)
    assert found is not None
    assert found[1] == small_kb()
    assert (found[0].author, found[0].note, found[0].entry_count) == (
        "admin@example.nhs.uk",
        "first",
        2,
    )


async def test_invalid_content_is_refused_with_the_loaders_problems_and_nothing_stored(
    versions: KbVersions,
) -> None:
    broken = small_kb().with_entry("sample-entry", entry_text(body="Email {{nowhere}}."))
    with pytest.raises(KbInvalid) as refused:
        await versions.publish(broken, "admin")
    assert any(
        p.file == "faqs/sample-entry.md" and "placeholder {{nowhere}}" in p.message
        for p in refused.value.problems
    )
    assert await versions.latest_id() is None


async def test_an_id_that_does_not_match_its_entry_is_an_error(versions: KbVersions) -> None:
    with pytest.raises(KbInvalid) as refused:
        await versions.publish(small_kb().with_entry("renamed", entry_text()), "admin")
    assert any("does not match the file name" in p.message for p in refused.value.problems)


async def test_rollback_publishes_the_old_content_as_a_new_version(versions: KbVersions) -> None:
    first, _ = await versions.publish(small_kb(), "admin", "one")
    changed = small_kb().with_entry("sample-entry", entry_text(body="Changed answer."))
    second, kb = await versions.publish(changed, "admin", "two")
    assert kb.get("sample-entry").answer == "Changed answer."  # type: ignore[union-attr]
    third, kb = await versions.rollback(first.id, "admin")
    assert third.id > second.id
    assert third.note == f"Rollback to version {first.id}"
    assert kb.get("sample-entry").answer.startswith("Ask at the desk")  # type: ignore[union-attr]
    history = await versions.list()
    assert [v.id for v in history] == [third.id, second.id, first.id]


async def test_diff_between_versions_names_each_changed_file(versions: KbVersions) -> None:
    old = small_kb()
    new = old.with_entry("sample-entry", entry_text(body="Changed answer.")).without_entry(
        "other-entry"
    )
    new = new.with_entry("third-entry", entry_text("third-entry"))
    changes = {c.name: c for c in diff(old, new)}
    assert set(changes) == {
        "faqs/sample-entry.md",
        "faqs/other-entry.md",
        "faqs/third-entry.md",
    }
    assert changes["faqs/other-entry.md"].status == "removed"
    assert changes["faqs/third-entry.md"].status == "added"
    edited = changes["faqs/sample-entry.md"]
    assert edited.status == "changed"
    assert "+Changed answer." in edited.lines
    assert any(line.startswith("-Ask at the desk") for line in edited.lines)


async def test_an_entry_changed_by_someone_else_since_it_was_opened_is_a_conflict(
    versions: KbVersions,
) -> None:
    base, _ = await versions.publish(small_kb(), "admin")
    await versions.publish_entry(
        "sample-entry", entry_text(body="Their edit."), "someone", base_version=base.id
    )
    with pytest.raises(VersionConflict):
        await versions.publish_entry(
            "sample-entry", entry_text(body="My edit."), "me", base_version=base.id
        )
    # Another entry's change in between is no conflict, and is kept.
    info, kb = await versions.publish_entry(
        "other-entry", entry_text("other-entry", body="Mine."), "me", base_version=base.id
    )
    assert kb.get("sample-entry").answer == "Their edit."  # type: ignore[union-attr]
    assert kb.get("other-entry").answer == "Mine."  # type: ignore[union-attr]
    assert info.id == base.id + 2


async def test_files_round_trip_through_the_database(versions: KbVersions, tmp_path: Path) -> None:
    info, kb = await versions.import_directory(SHIPPED_KB_DIR, "cli")
    assert len(kb.entries) == len(list((SHIPPED_KB_DIR / "faqs").glob("*.md")))
    found = await versions.get(info.id)
    assert found is not None
    found[1].write_directory(tmp_path / "out")
    again = KbContent.from_directory(tmp_path / "out")
    assert again == found[1]
    assert again.build(TODAY)[0] is not None


def test_a_stored_version_keeps_the_search_links_and_site_warnings_of_its_site_yaml() -> None:
    kb, problems = KbContent.from_directory(SHIPPED_KB_DIR).build(TODAY)
    assert kb is not None
    from_folder = KnowledgeStore.from_directory(SHIPPED_KB_DIR).current.kb
    assert kb.search_links == from_folder.search_links != ()
    assert any("still has the example value" in p.message for p in problems)


async def test_the_editor_round_trip_keeps_every_shipped_entry_the_same(
    versions: KbVersions,
) -> None:
    content = KbContent.from_directory(SHIPPED_KB_DIR)
    rewritten = KbContent(
        {k: to_markdown(from_markdown(v)).text for k, v in content.entries.items()},
        content.site,
        content.synonyms,
        content.out_of_scope,
    )
    original, _ = content.build(TODAY)
    again, problems = rewritten.build(TODAY)
    assert original is not None and again is not None, problems
    assert again.version == original.version


async def test_sync_answers_from_the_files_and_reloads_an_edit_while_nothing_is_published(
    versions: KbVersions, kb_folder: KbFolder
) -> None:
    store = KnowledgeStore.from_directory(kb_folder.path, today=TODAY)
    sync = KbSync(versions, store)
    assert not await sync.poll()
    kb_folder.write("faqs/other-entry.md", entry_text("other-entry", title="Other"))
    assert await sync.poll()
    assert store.current.kb.get("other-entry") is not None
    assert sync.version_id is None
    assert await versions.latest_id() is None  # nothing is imported behind anyone's back


async def test_sync_follows_a_published_version_and_then_ignores_the_files(
    versions: KbVersions, kb_folder: KbFolder
) -> None:
    store = KnowledgeStore.from_directory(kb_folder.path, today=TODAY)
    sync = KbSync(versions, store)
    await versions.publish(small_kb(), "elsewhere")  # as if another worker published
    assert await sync.poll()
    assert sync.version_id == 1
    assert store.current.kb.get("other-entry") is not None
    kb_folder.write("faqs/third-entry.md", entry_text("third-entry", title="Third"))
    assert not await sync.poll()
    assert store.current.kb.get("third-entry") is None


async def test_sync_never_goes_back_to_an_older_version(
    versions: KbVersions, kb_folder: KbFolder
) -> None:
    store = KnowledgeStore.from_directory(kb_folder.path, today=TODAY)
    sync = KbSync(versions, store)
    first, _ = await versions.publish(small_kb(), "admin")
    second, kb = await versions.publish(small_kb().without_entry("other-entry"), "admin")
    sync.apply(second.id, kb)
    sync.apply(first.id, small_kb().build(TODAY)[0])  # type: ignore[arg-type]
    assert sync.version_id == second.id
    assert store.current.kb.get("other-entry") is None


async def test_the_first_publish_records_the_files_as_version_1_so_it_can_be_rolled_back(
    database: Database, kb_folder: KbFolder
) -> None:
    versions = KbVersions(database, today=lambda: TODAY, files=kb_folder.path)
    _, files = await versions.current()
    assert set(files.entries) == {"sample-entry"}
    info, _ = await versions.publish(
        files.with_entry("other-entry", entry_text("other-entry")), "a"
    )
    assert info.id == 2
    original = await versions.get(1)
    assert original is not None
    assert original[0].author == "system"
    assert set(original[1].entries) == {"sample-entry"}


async def test_an_editor_opened_on_the_files_is_refused_if_the_entry_was_published_since(
    database: Database, kb_folder: KbFolder
) -> None:
    versions = KbVersions(database, today=lambda: TODAY, files=kb_folder.path)
    _, files = await versions.current()
    changed = entry_text(title="Changed elsewhere")
    await versions.publish(files.with_entry("sample-entry", changed), "someone else")
    with pytest.raises(VersionConflict):
        await versions.entry_change("sample-entry", entry_text(title="Mine"), base_version=None)


async def test_sync_uses_the_database_version_when_there_is_one(
    versions: KbVersions, kb_folder: KbFolder
) -> None:
    await versions.publish(small_kb(), "admin")
    store = KnowledgeStore.from_directory(kb_folder.path, today=TODAY)
    await KbSync(versions, store).poll()
    assert await versions.latest_id() == 1
    assert store.current.kb.get("other-entry") is not None
