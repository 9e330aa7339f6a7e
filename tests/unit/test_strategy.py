"""The search-strategy starter on the installed MeSH vocabulary (no fakes: the real CSV)."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.strategy import StrategyStarter, build_starter, years_from
from knowledge.mesh import load_mesh, read_entry_terms, uninverted, us_spelling

TODAY = date(2026, 12, 2)


@pytest.fixture(scope="module")
def mesh():  # type: ignore[no-untyped-def]
    return load_mesh()


def _names(starter: StrategyStarter) -> set[str]:
    return {h.name for h in starter.headings}


def test_vocabulary_has_the_descriptors_with_their_nlm_ids(mesh) -> None:  # type: ignore[no-untyped-def]
    assert len(mesh) > 30_000
    heading = mesh.named("Hypertension")
    assert heading is not None and heading.ui == "D006973"
    assert heading.url == "https://meshb.nlm.nih.gov/record/ui?ui=D006973"


def test_every_entry_term_names_a_real_heading(mesh) -> None:  # type: ignore[no-untyped-def]
    terms = read_entry_terms()
    names = [*terms.headings, *terms.population, *terms.outcome]
    assert [n for n in names if mesh.named(n) is None] == []


def test_uk_spelling_meets_the_us_heading(mesh) -> None:  # type: ignore[no-untyped-def]
    assert us_spelling("anaemia") == "anemia"
    starter = build_starter(mesh, "Anaemia in paediatric wards", today=TODAY)
    assert {"Anemia", "Pediatrics"} <= _names(starter)


def test_inverted_heading_names_match_the_order_people_write(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(mesh, "Sildenafil for pulmonary hypertension", today=TODAY)
    assert "Hypertension, Pulmonary" in _names(starter)
    assert uninverted("Hypertension, Pulmonary") == "Pulmonary Hypertension"


def test_an_entry_term_suggests_its_heading(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(mesh, "Cardiac rehab after a heart attack", today=TODAY)
    assert "Myocardial Infarction" in _names(starter)


def test_single_letters_tell_vitamins_apart(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(mesh, "vitamin D supplements in care homes", today=TODAY)
    assert "Vitamin D" in _names(starter)
    assert "Vitamin A" not in _names(starter)


def test_frame_words_suggest_no_heading(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(
        mesh, "Does it reduce or improve anything, and is it effective?", today=TODAY
    )
    assert starter.concepts == ()


def test_no_concept_has_more_than_three_headings(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(mesh, "nurses nursing care of patients with infections", today=TODAY)
    assert all(len(c.headings) <= 3 for c in starter.concepts)


def test_population_answer_fills_the_population_slot(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(
        mesh,
        "Does early mobilisation reduce length of stay?",
        population="older adults",
        today=TODAY,
    )
    slots = {c.phrase: c.slot for c in starter.concepts}
    assert slots == {"older adults": "P", "early mobilisation": "I", "length of stay": "O"}


def test_versus_marks_the_comparison_until_the_next_preposition(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(mesh, "Paracetamol versus ibuprofen for fever in children", today=TODAY)
    slots = {c.phrase: c.slot for c in starter.concepts}
    assert slots["ibuprofen"] == "C"
    assert slots["fever"] != "C"


def test_questions_about_experiences_use_peo(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(mesh, "Carers' experiences of dementia", today=TODAY)
    assert starter.framework == "PEO"


def test_boolean_ors_within_and_ands_between_concepts_with_the_years(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(
        mesh,
        "Hip fractures and mortality",
        population="older adults",
        date_range="2015-2024",
        today=TODAY,
    )
    boolean = starter.boolean()
    assert boolean.startswith('("Aged"[Mesh] OR "older adults"[tiab]')
    assert boolean.count(") AND (") == 2
    assert boolean.endswith(" AND 2015:2024[dp]")


def test_comparison_is_left_out_of_the_boolean(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(mesh, "Paracetamol versus ibuprofen for fever", today=TODAY)
    assert "Ibuprofen" in _names(starter)
    assert "Ibuprofen" not in starter.boolean()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-2024", (2015, 2024)),
        ("from 2010 to 2020", (2010, 2020)),
        ("since 2018", (2018, 2026)),
        ("last 5 years", (2022, 2026)),
        ("past ten years", (2017, 2026)),
        ("2019", (2019, 2026)),
        ("any", None),
        ("", None),
    ],
)
def test_years_from_the_form(text: str, expected: tuple[int, int] | None) -> None:
    assert years_from(text, TODAY) == expected


def test_redaction_labels_are_not_concepts(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(
        mesh, "Patient [name removed] with [NHS number removed] sepsis", today=TODAY
    )
    assert [c.phrase for c in starter.concepts] == ["sepsis"]


def test_json_round_trip_keeps_the_starter(mesh) -> None:  # type: ignore[no-untyped-def]
    starter = build_starter(
        mesh,
        "Chlorhexidine versus iodine for surgical site infection",
        date_range="since 2020",
        today=TODAY,
    )
    assert StrategyStarter.from_json(starter.to_json()) == starter


def test_text_says_it_is_a_draft_and_links_each_heading(mesh) -> None:  # type: ignore[no-untyped-def]
    text = build_starter(mesh, "Sepsis screening", today=TODAY).to_text()
    assert "not advice" in text
    assert "MeSH: Sepsis (high) https://meshb.nlm.nih.gov/record/ui?ui=D018805" in text


def test_the_privacy_scanner_leaves_the_starters_mesh_links_alone(mesh) -> None:  # type: ignore[no-untyped-def]
    from bot.desk.privacy import PrivacyScanner

    text = build_starter(mesh, "Sepsis screening", today=TODAY).to_text()
    assert PrivacyScanner().redact(text) == text
    assert PrivacyScanner().scan("patient D018805 on ward 3")  # a bare one still is found
