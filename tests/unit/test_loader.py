"""Loading and validating KB files: every class of mistake is reported at its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loader import (
    KnowledgeBaseInvalid,
    SourceFile,
    build_knowledge_base,
    load_knowledge_base,
    read_directory,
)
from knowledge.models import Problem, Severity
from knowledge.store import KnowledgeStore
from tests.conftest import SITE_YAML, TODAY, KbFolder, entry_text


def errors_of(folder: KbFolder) -> list[Problem]:
    kb, problems = read_directory(folder.path, TODAY)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    assert kb is None or not errors
    return errors


def only_error(folder: KbFolder) -> Problem:
    errors = errors_of(folder)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_valid_folder_loads_with_placeholders_filled(kb_folder: KbFolder) -> None:
    kb = load_knowledge_base(kb_folder.path, TODAY)
    entry = kb.get("sample-entry")
    assert entry is not None
    assert entry.answer == "Ask at the desk or email library@test.nhs.uk."
    assert entry.answer_template == "Ask at the desk or email {{library_email}}."


def test_missing_placeholder_value_is_an_error_at_its_line(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(body="Line one.\nCall {{library_fax}}."))
    problem = only_error(kb_folder)
    assert problem.line == 16  # 14 front matter lines, then "Line one." on 15
    assert "{{library_fax}}" in problem.message


def test_file_without_front_matter_is_rejected(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", "just an answer\n")
    assert "must start with a '---'" in only_error(kb_folder).message


def test_unclosed_front_matter_is_rejected(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", "---\nid: sample-entry\n")
    assert "not closed" in only_error(kb_folder).message


def test_yaml_syntax_error_reports_its_line(kb_folder: KbFolder) -> None:
    text = entry_text().replace("owner: Library team", "owner: [unclosed")
    kb_folder.write("faqs/sample-entry.md", text)
    problem = only_error(kb_folder)
    assert "not valid YAML" in problem.message
    assert problem.line >= 9


def test_missing_required_field_is_named(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text().replace("owner: Library team\n", ""))
    assert "missing required field 'owner'" in only_error(kb_folder).message


def test_unknown_field_is_reported_at_its_line(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(extra="questons: [typo]\n"))
    problem = only_error(kb_folder)
    assert problem.message == "unknown field 'questons'"
    assert problem.line == 14


def test_bad_id_format_is_rejected(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/Bad_Id.md", entry_text("Bad_Id"))
    assert "lower-case letters" in only_error(kb_folder).message


def test_id_must_match_file_name(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/other-name.md", entry_text("another-entry"))
    assert "does not match the file name" in only_error(kb_folder).message


def test_duplicate_ids_are_rejected() -> None:
    problems: list[Problem] = []
    sources = [SourceFile("draft 1", entry_text()), SourceFile("draft 2", entry_text())]
    kb = build_knowledge_base(sources, {"library_email": "a@b.nhs.uk"}, {}, (), problems, TODAY)
    assert kb is None
    assert [str(p) for p in problems] == [
        "draft 2:2: duplicate id 'sample-entry' (also in draft 1)"
    ]


def test_malformed_link_url_is_rejected(kb_folder: KbFolder) -> None:
    links = "  - title: Source\n    url: not a url\n"
    kb_folder.write("faqs/sample-entry.md", entry_text(links=links))
    assert "not well formed" in only_error(kb_folder).message


def test_link_without_title_is_rejected(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(links="  - url: https://x.nhs.uk/\n"))
    assert "needs a 'title' and a 'url'" in only_error(kb_folder).message


def test_unknown_category_is_rejected(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(category="gossip"))
    assert "category 'gossip'" in only_error(kb_folder).message


def test_answer_too_long_for_a_slack_block_is_rejected(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(body="word " * 700))
    assert "the limit is 3000" in only_error(kb_folder).message


def test_empty_answer_is_rejected(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(body=""))
    assert "answer" in only_error(kb_folder).message


def test_review_by_before_reviewed_is_rejected(kb_folder: KbFolder) -> None:
    text = entry_text().replace("review_by: 2027-10-01", "review_by: 2025-01-01")
    kb_folder.write("faqs/sample-entry.md", text)
    assert "must be after 'reviewed'" in only_error(kb_folder).message


def test_overdue_review_is_a_warning_not_an_error(kb_folder: KbFolder) -> None:
    text = entry_text().replace("reviewed: 2026-10-01", "reviewed: 2025-01-01")
    text = text.replace("review_by: 2027-10-01", "review_by: 2026-01-01")
    kb_folder.write("faqs/sample-entry.md", text)
    kb, problems = read_directory(kb_folder.path, TODAY)
    assert kb is not None
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert "review was due on 2026-01-01" in str(problems[0])


def test_question_list_of_wrong_type_is_rejected(kb_folder: KbFolder) -> None:
    text = entry_text().replace(
        "questions:\n  - how do I borrow a book\n  - borrowing books from the library\n",
        "questions: just one string\n",
    )
    kb_folder.write("faqs/sample-entry.md", text)
    assert "must be a list" in only_error(kb_folder).message


def test_problem_prints_as_file_line_message() -> None:
    assert str(Problem("faqs/a.md", 7, "boom")) == "faqs/a.md:7: boom"


def test_missing_site_profile_is_an_error(kb_folder: KbFolder) -> None:
    (kb_folder.path / "site.yaml").unlink()
    errors = errors_of(kb_folder)
    assert any("site.yaml" in e.file and "missing" in e.message for e in errors)


def test_synonym_variant_claimed_twice_is_rejected(kb_folder: KbFolder) -> None:
    kb_folder.write("synonyms.yaml", "synonyms:\n  library: [lib]\n  liberty: [lib]\n")
    assert "variant of both" in only_error(kb_folder).message


def test_load_raises_with_every_problem(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(category="gossip", body=""))
    with pytest.raises(KnowledgeBaseInvalid) as raised:
        load_knowledge_base(kb_folder.path, TODAY)
    assert len(raised.value.problems) == 2


def test_folder_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    kb, problems = read_directory(tmp_path / "nowhere", TODAY)
    assert kb is None
    assert "does not exist" in problems[0].message


def test_reload_with_a_broken_file_keeps_the_last_good_version(kb_folder: KbFolder) -> None:
    store = KnowledgeStore.from_directory(kb_folder.path, TODAY)
    good_version = store.current.kb.version
    kb_folder.write("faqs/sample-entry.md", "---\nbroken: [\n---\n")
    problems = store.reload(TODAY)
    assert problems
    assert store.current.kb.version == good_version
    assert store.current.kb.get("sample-entry") is not None


def test_reload_with_a_fixed_file_serves_the_new_answer(kb_folder: KbFolder) -> None:
    store = KnowledgeStore.from_directory(kb_folder.path, TODAY)
    kb_folder.write("faqs/sample-entry.md", entry_text(body="New wording."))
    assert store.reload_if_changed()
    entry = store.current.kb.get("sample-entry")
    assert entry is not None
    assert entry.answer == "New wording."


def test_shipped_knowledge_base_is_valid() -> None:
    from knowledge import SHIPPED_KB_DIR

    kb, problems = read_directory(SHIPPED_KB_DIR)
    assert kb is not None, [str(p) for p in problems]
    assert [p for p in problems if p.severity is Severity.ERROR] == []


def test_shipped_knowledge_base_warns_only_about_its_example_site_values() -> None:
    from knowledge import SHIPPED_KB_DIR

    _, problems = read_directory(SHIPPED_KB_DIR)
    others = [str(p) for p in problems if "example" not in p.message]
    assert others == []
    assert all(p.file.endswith("site.yaml") for p in problems)


def warnings_of(folder: KbFolder) -> list[Problem]:
    kb, problems = read_directory(folder.path, TODAY)
    assert kb is not None, [str(p) for p in problems]
    return [p for p in problems if p.severity is Severity.WARNING]


def test_example_value_left_in_site_profile_is_a_warning_at_its_line(kb_folder: KbFolder) -> None:
    kb_folder.write("site.yaml", SITE_YAML.replace("library@test.nhs.uk", "library@example.nhs.uk"))
    (warning,) = warnings_of(kb_folder)
    assert warning.file.endswith("site.yaml")
    assert warning.line == 2
    assert "'library_email' still has the example value" in warning.message


def test_example_phone_number_left_in_site_profile_is_a_warning(kb_folder: KbFolder) -> None:
    kb_folder.write("site.yaml", SITE_YAML.replace("01234 000000", "01234 567890 (ext 1)"))
    (warning,) = warnings_of(kb_folder)
    assert warning.line == 3
    assert "'library_phone' still has the example value" in warning.message


def test_example_name_left_in_site_profile_is_a_warning(kb_folder: KbFolder) -> None:
    kb_folder.write("site.yaml", SITE_YAML.replace("Test Library", "Example Trust Library"))
    (warning,) = warnings_of(kb_folder)
    assert warning.line == 1
    assert "'library_name' still has the example value" in warning.message


def test_for_example_in_a_site_value_is_not_an_example_value(kb_folder: KbFolder) -> None:
    kb_folder.write("site.yaml", SITE_YAML.replace("9 to 5", "9 to 5 (for example, on weekdays)"))
    assert warnings_of(kb_folder) == []


def test_example_search_link_address_is_a_warning(kb_folder: KbFolder) -> None:
    links = "search_links:\n  - name: Hub\n    url: https://hub.example.nhs.uk/s?q={topic}\n"
    kb_folder.write("site.yaml", SITE_YAML + links)
    (warning,) = warnings_of(kb_folder)
    assert warning.line == 5
    assert "search link 'Hub' still has the example address" in warning.message


def test_answer_longer_than_80_words_is_a_warning(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(body="- **word**\n" * 81))
    (warning,) = warnings_of(kb_folder)
    assert warning.line == 15
    assert "answer is 81 words once filled" in warning.message


def test_answer_of_80_words_with_bullets_is_not_a_warning(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", entry_text(body="- **word** -\n" * 80))
    assert warnings_of(kb_folder) == []


def test_the_before_a_name_that_starts_with_the_is_a_warning(kb_folder: KbFolder) -> None:
    kb_folder.write("site.yaml", SITE_YAML.replace("Test Library", "the Test Library"))
    kb_folder.write("faqs/sample-entry.md", entry_text(body="Ask the **{{library_name}}**."))
    (warning,) = warnings_of(kb_folder)
    assert "'the the' once placeholders are filled" in warning.message


def test_search_links_are_read_from_the_site_profile(kb_folder: KbFolder) -> None:
    links = (
        "search_links:\n  - name: PubMed\n    url: https://pubmed.ncbi.nlm.nih.gov/?term={topic}\n"
    )
    kb_folder.write("site.yaml", SITE_YAML + links)
    kb = load_knowledge_base(kb_folder.path, TODAY)
    (link,) = kb.search_links
    assert link.name == "PubMed"
    assert link.url_for("falls%20prevention") == (
        "https://pubmed.ncbi.nlm.nih.gov/?term=falls%20prevention"
    )
    assert "search_links" not in kb.site


def test_search_link_without_a_topic_slot_is_rejected_at_its_line(kb_folder: KbFolder) -> None:
    links = "search_links:\n  - name: Hub\n    url: https://hub.nhs.uk/search\n"
    kb_folder.write("site.yaml", SITE_YAML + links)
    error = only_error(kb_folder)
    assert "must be an https address containing {topic}" in error.message
    assert error.line == 5


def test_search_link_name_that_would_break_link_markup_is_rejected(kb_folder: KbFolder) -> None:
    links = "search_links:\n  - name: Hub [beta]\n    url: https://hub.nhs.uk/s?q={topic}\n"
    kb_folder.write("site.yaml", SITE_YAML + links)
    assert "search link name has a bracket" in only_error(kb_folder).message
