"""Tests for bot.desk.privacy: what counts as patient-identifiable, and that it never leaks."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# Documented top-level API; the package's __init__ re-exports without __all__.
from nhs_number import calculate_checksum, is_valid  # type: ignore[attr-defined]

from bot.desk.privacy import (
    DEFAULT_HOSPITAL_NUMBER_PATTERN,
    Finding,
    FindingKind,
    PrivacyScanner,
)

VALID_NHS_NUMBER = "9434765919"
WRONG_CHECK_DIGIT = "9434765918"


def _with_check_digit(first_nine: str) -> str:
    """Build a valid NHS number with the package's own check-digit calculation."""
    check = calculate_checksum(first_nine)
    assert check is not None and check < 10, "these nine digits have no valid check digit"
    return first_nine + str(check)


def _spaced(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def _hyphenated(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def _kinds(text: str, scanner: PrivacyScanner | None = None) -> list[FindingKind]:
    return [finding.kind for finding in (scanner or PrivacyScanner()).scan(text)]


def _found_text(text: str, kind: FindingKind) -> list[str]:
    return [text[f.start : f.end] for f in PrivacyScanner().scan(text) if f.kind is kind]


@pytest.fixture
def scanner() -> PrivacyScanner:
    return PrivacyScanner()


def test_example_nhs_number_is_valid_according_to_the_package() -> None:
    assert is_valid(VALID_NHS_NUMBER)
    assert not is_valid(WRONG_CHECK_DIGIT)


# --------------------------------------------------------------------------------------------
# NHS numbers
# --------------------------------------------------------------------------------------------


def test_plain_nhs_number_with_valid_check_digit_is_found() -> None:
    text = f"NHS no {VALID_NHS_NUMBER} attached"
    assert _found_text(text, FindingKind.NHS_NUMBER) == [VALID_NHS_NUMBER]


def test_spaced_nhs_number_with_valid_check_digit_is_found() -> None:
    text = f"NHS no {_spaced(VALID_NHS_NUMBER)} attached"
    assert _found_text(text, FindingKind.NHS_NUMBER) == ["943 476 5919"]


def test_hyphenated_nhs_number_with_valid_check_digit_is_found() -> None:
    text = f"NHS no {_hyphenated(VALID_NHS_NUMBER)} attached"
    assert _found_text(text, FindingKind.NHS_NUMBER) == ["943-476-5919"]


def test_nhs_number_pasted_with_non_breaking_spaces_is_found() -> None:
    text = "NHS no 943\u00a0476\u00a05919"
    assert _kinds(text) == [FindingKind.NHS_NUMBER]


@pytest.mark.parametrize("first_nine", ["401023456", "600000001", "999000123", "450557710"])
def test_nhs_numbers_built_with_the_package_check_digit_are_found(first_nine: str) -> None:
    number = _with_check_digit(first_nine)
    assert _kinds(f"patient {number} seen") == [FindingKind.NHS_NUMBER]


def test_ten_digits_with_wrong_check_digit_is_not_an_nhs_number() -> None:
    assert FindingKind.NHS_NUMBER not in _kinds(f"ref {WRONG_CHECK_DIGIT}")


def test_spaced_ten_digits_with_wrong_check_digit_is_not_an_nhs_number() -> None:
    assert FindingKind.NHS_NUMBER not in _kinds(f"ref {_spaced(WRONG_CHECK_DIGIT)}")


def test_ten_digits_with_wrong_check_digit_can_still_be_a_phone_number() -> None:
    # 080012345 has no valid NHS check digit at all, but 0800 123456 is a freephone number.
    assert calculate_checksum("080012345") == 10
    assert _kinds("ring 0800123456 for help") == [FindingKind.PHONE_NUMBER]


def test_nhs_number_digits_inside_a_longer_number_are_not_an_nhs_number() -> None:
    assert FindingKind.NHS_NUMBER not in _kinds(f"order 1{VALID_NHS_NUMBER}")


# --------------------------------------------------------------------------------------------
# Dates of birth
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("DOB 12/03/1950", "12/03/1950"),
        ("d.o.b: 12.03.50", "12.03.50"),
        ("date of birth 1950-03-12", "1950-03-12"),
        ("born 12 March 1950", "12 March 1950"),
        ("born on 3/4/1988", "3/4/1988"),
        ("aged 67, born 1950-03-12", "1950-03-12"),
        ("D.O.B. 3rd Apr '88", "3rd Apr '88"),
        ("DoB: March 12, 1950", "March 12, 1950"),
        ("born in Leeds on 3rd of April 1988", "3rd of April 1988"),
    ],
)
def test_date_signalled_as_a_birth_date_is_found(text: str, date: str) -> None:
    assert _found_text(text, FindingKind.DATE_OF_BIRTH) == [date]


def test_deadline_date_is_not_a_date_of_birth() -> None:
    assert _kinds("deadline 2026-12-01") == []


def test_bare_date_in_a_request_is_not_a_date_of_birth() -> None:
    assert _kinds("Can I have the search by Friday 12/03/2027?") == []


def test_birth_keyword_does_not_reach_past_an_intervening_number() -> None:
    assert _kinds("cohort born in 1950, followed up on 12/03/2020") == []


def test_birth_keyword_is_kept_and_only_the_date_is_removed(scanner: PrivacyScanner) -> None:
    assert scanner.redact("DOB 12/03/1950") == "DOB [date of birth removed]"


# --------------------------------------------------------------------------------------------
# Hospital numbers
# --------------------------------------------------------------------------------------------


def test_free_standing_hospital_number_is_found() -> None:
    assert _found_text("Patient RTX123456 on ward 4", FindingKind.HOSPITAL_NUMBER) == ["RTX123456"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MRN: 00123456", "00123456"),
        ("hosp no 1234567", "1234567"),
        ("Hospital number is 12-345-678", "12-345-678"),
        ("medical record number k99887766", "k99887766"),
    ],
)
def test_hospital_number_introduced_by_a_label_is_found_whatever_its_layout(
    text: str, value: str
) -> None:
    assert _found_text(text, FindingKind.HOSPITAL_NUMBER) == [value]


def test_label_without_a_number_after_it_is_not_a_finding() -> None:
    assert _kinds("I don't know the hospital number yet") == []


def test_pubmed_central_and_trial_registry_ids_are_not_hospital_numbers() -> None:
    assert _kinds("See PMC7123456 and NCT01234567 for the trial results") == []


def test_default_hospital_number_pattern_is_exposed_and_finds_bare_hospital_numbers() -> None:
    text = "Seen as RTX123456 and AB1234567"
    assert _found_text(text, FindingKind.HOSPITAL_NUMBER) == ["RTX123456", "AB1234567"]
    exposed = PrivacyScanner(DEFAULT_HOSPITAL_NUMBER_PATTERN)
    assert [text[f.start : f.end] for f in exposed.scan(text)] == ["RTX123456", "AB1234567"]


def test_custom_hospital_number_pattern() -> None:
    scanner = PrivacyScanner(hospital_number_pattern=r"\bH\d{5}\b")
    text = "Patient H12345, previously RTX123456"
    assert [text[f.start : f.end] for f in scanner.scan(text)] == ["H12345"]


def test_disabled_hospital_number_pattern_still_finds_labelled_numbers() -> None:
    scanner = PrivacyScanner(hospital_number_pattern=None)
    assert _kinds("RTX123456", scanner) == []
    assert _kinds("MRN RTX123456", scanner) == [FindingKind.HOSPITAL_NUMBER]


def test_invalid_hospital_number_pattern_is_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match="hospital_number_pattern"):
        PrivacyScanner(hospital_number_pattern="([A-Z")


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "0161 496 0000",
        "020 7946 0958",
        "07911 123456",
        "07911123456",
        "+44 7911 123456",
        "+44 (0)20 7946 0958",
        "+447911123456",
    ],
)
def test_uk_phone_number_is_found(number: str) -> None:
    assert _found_text(f"please call {number} after 2pm", FindingKind.PHONE_NUMBER) == [number]


def test_phone_extension_is_removed_with_the_number(scanner: PrivacyScanner) -> None:
    redacted = scanner.redact("ring 0161 496 0000 ext. 4321 today")
    assert redacted == "ring [phone number removed] today"


def test_short_reference_numbers_are_not_phone_numbers() -> None:
    assert _kinds("Ref 12 34, bleep 1234, room 101, 500 mg twice daily for 7 days") == []


# --------------------------------------------------------------------------------------------
# Email addresses
# --------------------------------------------------------------------------------------------


def test_email_address_is_found() -> None:
    text = "write to jane.o'brien+library@nhs.net please"
    assert _found_text(text, FindingKind.EMAIL) == ["jane.o'brien+library@nhs.net"]


def test_full_stop_ending_a_sentence_is_not_part_of_the_email_address() -> None:
    assert _found_text("Email j.bloggs@nhs.net.", FindingKind.EMAIL) == ["j.bloggs@nhs.net"]


def test_at_sign_without_a_domain_is_not_an_email_address() -> None:
    assert _kinds("meet @ 3 in the library, ask @librarian") == []


# --------------------------------------------------------------------------------------------
# Postcodes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("postcode", ["SW1A 1AA", "m1 1ae", "B33 8TH", "LS1 4AP", "EC1A1BB"])
def test_full_uk_postcode_is_found(postcode: str) -> None:
    assert _found_text(f"lives at {postcode} with family", FindingKind.POSTCODE) == [postcode]


def test_outward_code_alone_is_not_a_postcode() -> None:
    assert _kinds("our library serves SW1A and nearby") == []


def test_postcode_shaped_text_with_an_unknown_area_is_not_a_postcode() -> None:
    assert _kinds("play the mp3 2nd, then Q3 4th") == []


# --------------------------------------------------------------------------------------------
# Finding
# --------------------------------------------------------------------------------------------


def test_finding_repr_does_not_contain_the_value(scanner: PrivacyScanner) -> None:
    (finding,) = scanner.scan(f"NHS {VALID_NHS_NUMBER}")
    assert VALID_NHS_NUMBER not in repr(finding)
    assert VALID_NHS_NUMBER not in str(finding)
    assert repr(finding) == "Finding(kind=NHS_NUMBER, start=4, end=14)"


def test_finding_holds_only_kind_and_span() -> None:
    assert [field.name for field in dataclasses.fields(Finding)] == ["kind", "start", "end"]


def test_finding_is_immutable() -> None:
    finding = Finding(FindingKind.EMAIL, 0, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.start = 1  # type: ignore[misc]


def test_finding_with_an_empty_span_is_rejected() -> None:
    with pytest.raises(ValueError, match="invalid finding span"):
        Finding(FindingKind.EMAIL, 5, 5)


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (FindingKind.NHS_NUMBER, "[NHS number removed]"),
        (FindingKind.DATE_OF_BIRTH, "[date of birth removed]"),
        (FindingKind.HOSPITAL_NUMBER, "[hospital number removed]"),
        (FindingKind.PHONE_NUMBER, "[phone number removed]"),
        (FindingKind.EMAIL, "[email address removed]"),
        (FindingKind.POSTCODE, "[postcode removed]"),
    ],
)
def test_each_kind_of_finding_has_its_label(kind: FindingKind, label: str) -> None:
    assert Finding(kind, 0, 1).label == label


# --------------------------------------------------------------------------------------------
# Scanning whole messages
# --------------------------------------------------------------------------------------------


def test_several_findings_in_one_message_are_reported_in_order(scanner: PrivacyScanner) -> None:
    text = (
        f"Mrs X (NHS {_spaced(VALID_NHS_NUMBER)}, DOB 12/03/1950) lives at LS1 4AP, "
        "tel 0113 496 0000, email x.y@nhs.net, hospital number RTX123456"
    )
    assert _kinds(text, scanner) == [
        FindingKind.NHS_NUMBER,
        FindingKind.DATE_OF_BIRTH,
        FindingKind.POSTCODE,
        FindingKind.PHONE_NUMBER,
        FindingKind.EMAIL,
        FindingKind.HOSPITAL_NUMBER,
    ]


def test_identifiers_hidden_in_longer_clinical_prose_are_found(scanner: PrivacyScanner) -> None:
    text = (
        "Looking for evidence on anticoagulation after TAVI in the over-80s. The question came "
        "from a ward round (our 84-year-old lady, nhs no." + _hyphenated(VALID_NHS_NUMBER) + ", "
        "admitted from her home near m1 1ae) and the consultant wants a summary of the RCTs, "
        "ideally NICE guidance plus anything since 2021. Can you reply to the registrar on "
        "07911 123456 rather than bleep 1234? Many thanks."
    )
    redacted = scanner.redact(text)
    assert _kinds(text, scanner) == [
        FindingKind.NHS_NUMBER,
        FindingKind.POSTCODE,
        FindingKind.PHONE_NUMBER,
    ]
    assert "nhs no.[NHS number removed]," in redacted
    assert "near [postcode removed])" in redacted
    assert "registrar on [phone number removed] rather" in redacted


def test_evidence_question_without_identifiers_has_no_findings(scanner: PrivacyScanner) -> None:
    text = (
        "Please find RCTs of apixaban 5 mg twice daily vs warfarin (INR 2-3) published "
        "2015-2024, e.g. PMC7123456, NCT01234567, doi:10.1136/bmj.m1234, ISBN 978-0-14-143951-8. "
        "Deadline 2026-12-01; we meet on 12/03/2027 in room 101."
    )
    assert scanner.scan(text) == []


def test_nhs_number_labelled_as_mrn_is_reported_once_as_an_nhs_number(
    scanner: PrivacyScanner,
) -> None:
    assert _kinds(f"MRN {VALID_NHS_NUMBER}", scanner) == [FindingKind.NHS_NUMBER]


def test_oversize_message_is_scanned_to_the_end(scanner: PrivacyScanner) -> None:
    text = "x " * 30_000 + f"NHS {VALID_NHS_NUMBER}"
    assert len(text) > 40_000
    assert _kinds(text, scanner) == [FindingKind.NHS_NUMBER]


def test_empty_text_has_no_findings(scanner: PrivacyScanner) -> None:
    assert scanner.scan("") == []


# --------------------------------------------------------------------------------------------
# Redaction
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("formatted", [VALID_NHS_NUMBER, "943 476 5919", "943-476-5919"])
def test_redacted_text_contains_no_digit_of_the_nhs_number(
    scanner: PrivacyScanner, formatted: str
) -> None:
    redacted = scanner.redact(f"Patient NHS number {formatted}, please advise")
    assert redacted == "Patient NHS number [NHS number removed], please advise"
    assert not any(ch.isdigit() for ch in redacted)


def test_redact_uses_precomputed_findings(scanner: PrivacyScanner) -> None:
    text = "email a@b.com"
    assert scanner.redact(text, [Finding(FindingKind.POSTCODE, 6, 13)]) == (
        "email [postcode removed]"
    )


def test_redact_with_no_findings_leaves_text_unchanged(scanner: PrivacyScanner) -> None:
    assert scanner.redact("nothing to hide", []) == "nothing to hide"


def test_redact_prefers_nhs_number_over_phone_number_for_the_same_span(
    scanner: PrivacyScanner,
) -> None:
    findings = [
        Finding(FindingKind.PHONE_NUMBER, 0, 10),
        Finding(FindingKind.NHS_NUMBER, 0, 10),
    ]
    assert scanner.redact(VALID_NHS_NUMBER, findings) == "[NHS number removed]"


def test_redact_removes_the_union_of_overlapping_findings(scanner: PrivacyScanner) -> None:
    findings = [Finding(FindingKind.PHONE_NUMBER, 2, 8), Finding(FindingKind.NHS_NUMBER, 4, 12)]
    assert scanner.redact("ab0123456789yz", findings) == "ab[NHS number removed]yz"


def test_redact_rejects_a_finding_beyond_the_text(scanner: PrivacyScanner) -> None:
    with pytest.raises(ValueError, match="beyond the end"):
        scanner.redact("short", [Finding(FindingKind.EMAIL, 2, 50)])


# --------------------------------------------------------------------------------------------
# Describing findings to the requester
# --------------------------------------------------------------------------------------------


def test_describe_names_each_kind_without_quoting_the_value(scanner: PrivacyScanner) -> None:
    text = f"NHS {VALID_NHS_NUMBER} DOB 12/03/1950"
    message = scanner.describe(scanner.scan(text))
    assert message == (
        "It looks like your message contains an NHS number and a date of birth. "
        "Please rephrase without patient-identifiable details."
    )
    assert VALID_NHS_NUMBER not in message
    assert "1950" not in message


def test_describe_uses_the_plural_for_a_repeated_kind() -> None:
    findings = [Finding(FindingKind.EMAIL, 0, 3), Finding(FindingKind.EMAIL, 5, 9)]
    assert "contains email addresses." in PrivacyScanner.describe(findings)


def test_describe_lists_three_kinds_in_a_fixed_order() -> None:
    findings = [
        Finding(FindingKind.POSTCODE, 0, 3),
        Finding(FindingKind.PHONE_NUMBER, 5, 9),
        Finding(FindingKind.HOSPITAL_NUMBER, 10, 12),
    ]
    assert "contains a hospital number, a phone number and a postcode." in (
        PrivacyScanner.describe(findings)
    )


def test_describe_of_no_findings_is_empty() -> None:
    assert PrivacyScanner.describe([]) == ""


# --------------------------------------------------------------------------------------------
# Performance
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "a" * 40_000,
        "a@" * 20_000,
        "a" * 40_000 + "@" + "b" * 40_000,
        "DOB " * 10_000,
        "born on " * 5_000,
        "MRN " * 10_000,
        "SW1A " * 8_000,
        "9" * 40_000,
        "123-" * 10_000,
    ],
    ids=[
        "letters",
        "at-signs",
        "long-local-part",
        "dob",
        "born",
        "mrn",
        "outward",
        "digits",
        "dashes",
    ],
)
def test_hostile_input_is_scanned_to_the_end_with_sane_findings(
    scanner: PrivacyScanner, hostile: str
) -> None:
    # Speed is measured in benchmarks/privacy_speed.py; here the scan must finish and stay sane.
    findings = scanner.scan(hostile)
    assert all(0 <= f.start < f.end <= len(hostile) for f in findings)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_NINE_DIGITS = st.text(alphabet="0123456789", min_size=9, max_size=9)
_VALID_NHS_NUMBERS: st.SearchStrategy[str] = _NINE_DIGITS.map(
    lambda nine: nine + str(calculate_checksum(nine))
).filter(lambda number: is_valid(number))
# No decimal digits in the surrounding text, so any of the number's digits left in the output
# can only have come from the number itself.
_TEXT_WITHOUT_DIGITS = st.text(
    alphabet=st.characters(exclude_categories=("Nd", "Cs")), max_size=200
)


@settings(deadline=None)
@given(
    prefix=_TEXT_WITHOUT_DIGITS,
    number=_VALID_NHS_NUMBERS,
    layout=st.sampled_from([str, _spaced, _hyphenated]),
    suffix=_TEXT_WITHOUT_DIGITS,
)
def test_redacted_text_never_contains_an_embedded_nhs_number(
    prefix: str, number: str, layout: Callable[[str], str], suffix: str
) -> None:
    redacted = PrivacyScanner().redact(prefix + layout(number) + suffix)
    digits_left = "".join(ch for ch in redacted if ch.isdecimal())
    assert number not in digits_left


@settings(deadline=None)
@given(text=st.text(max_size=500))
def test_findings_for_any_text_are_sorted_disjoint_and_within_the_text(text: str) -> None:
    findings = PrivacyScanner().scan(text)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    for earlier, later in itertools.pairwise(findings):
        assert earlier.end <= later.start


# ---- names, where the wording marks one -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("evidence on sepsis for Mrs Jones please", "Jones"),
        ("Mr A. Khan in bay 3", "A. Khan"),
        ("MRS SMITH on ward 9", "SMITH"),
        ("review for Ms O'Brien", "O'Brien"),
        ("Mrs Jones-Evans was admitted", "Jones-Evans"),
        ("the patient is called Dave", "Dave"),
        ("patient called John Smith has", "John Smith"),
        ("pt name is Sarah O'Neill", "Sarah O'Neill"),
        ("Name: Ahmed Patel", "Ahmed Patel"),
    ],
)
def test_a_name_marked_by_a_title_or_by_wording_is_found(text: str, name: str) -> None:
    assert _found_text(text, FindingKind.NAME) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "I miss Friday's teaching",
        "Dr Evans asked for evidence on falls prevention",
        "evidence on Parkinson's disease for the MDT",
        "is the Royal Marsden manual on the Hub",
        "mrs jones",  # without capitals it is not written as a name, and is left alone
    ],
)
def test_capitalised_words_without_a_title_or_wording_are_not_names(text: str) -> None:
    assert FindingKind.NAME not in _kinds(text)


def test_a_record_keyword_after_a_titled_name_is_kept() -> None:
    text = "sepsis evidence for Mrs Jones DOB 01/02/1960"
    assert PrivacyScanner().redact(text) == (
        "sepsis evidence for Mrs [name removed] DOB [date of birth removed]"
    )


def test_the_requester_is_told_a_name_was_found_not_what_it_was() -> None:
    scanner = PrivacyScanner()
    message = scanner.describe(scanner.scan("Mrs Jones needs a review"))
    assert "a name" in message and "Jones" not in message


# ---- the check digit alone decides (issue 14, item 7) ----------------------------------------


def _mod11(first_nine: str) -> int:
    """The NHS Data Dictionary's check digit, written out so the test does not trust the code."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    return (11 - total % 11) % 11


@pytest.mark.parametrize(
    "first_nine",
    [
        "010101123",  # a Scottish CHI number: date of birth 01/01/01 first
        "311299456",  # CHI, 31/12/99
        "320000001",  # Northern Ireland H&C range
        "111111111",  # ranges the nhs-number package cannot place in a region
        "250000004",
        "999999990",  # test range used by training systems
    ],
)
def test_any_ten_digits_with_a_valid_mod11_check_digit_are_an_nhs_number(first_nine: str) -> None:
    check = _mod11(first_nine)
    assert check < 10
    number = first_nine + str(check)
    for layout in (str, _spaced, _hyphenated):
        assert _kinds(f"seen {layout(number)} today") == [FindingKind.NHS_NUMBER]


def test_a_number_the_nhs_number_package_rejects_is_still_removed() -> None:
    number = "2500000044"  # mod-11 valid; the package cannot place it in a region
    assert not is_valid(number)
    assert PrivacyScanner().redact(f"pt {number}") == "pt [NHS number removed]"


@pytest.mark.parametrize(
    "label",
    ["NHS number", "NHS no.", "nhs", "CHI", "CHI no:", "H&C number", "H&C", "hospital number",
     "patient number", "Patient ID", "pt no"],
)  # fmt: skip
@pytest.mark.parametrize("layout", [str, _spaced, _hyphenated])
def test_ten_digits_called_a_patient_number_are_removed_whatever_the_check_digit(
    label: str, layout: Callable[[str], str]
) -> None:
    redacted = PrivacyScanner().redact(f"{label} {layout(WRONG_CHECK_DIGIT)} please")
    assert not any(ch.isdigit() for ch in redacted.replace(label, ""))


def test_wrong_check_digit_without_patient_words_is_kept_as_an_audit_id() -> None:
    text = f"audit run {WRONG_CHECK_DIGIT} finished"
    assert PrivacyScanner().redact(text) == text


def test_patient_words_far_before_a_number_do_not_make_it_an_nhs_number() -> None:
    text = f"the NHS library team says the audit id is, as I said before, {WRONG_CHECK_DIGIT}"
    assert FindingKind.NHS_NUMBER not in _kinds(text)


# ---- any UK-shaped phone number (item 8) ------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["01632 960123", "07700 900123", "07700900456", "020 7946 0123", "+44 7700 900123",
     "0044 1632 960999", "(01632) 960001"],
)  # fmt: skip
def test_a_uk_phone_number_in_an_unallocated_range_is_found(number: str) -> None:
    assert _found_text(f"ring {number} after 2pm", FindingKind.PHONE_NUMBER) == [number]


def test_a_bare_ten_digit_reference_is_not_a_uk_phone_number() -> None:
    assert _kinds(f"ticket {WRONG_CHECK_DIGIT}") == []


# ---- decoded before scanning (item 10) --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("NHS 943&nbsp;476&nbsp;5919 ok", "NHS [NHS number removed] ok"),
        ("NHS 943&#160;476&#xA0;5919 ok", "NHS [NHS number removed] ok"),
        ("no 943\u200b476\u200b5919", "no [NHS number removed]"),
        ("no 943\u2009476\u202f5919", "no [NHS number removed]"),
        ("no \uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19", "no [NHS number removed]"),
        ("no 943\u2013476\u20135919", "no [NHS number removed]"),
        ("<p>NHS <b>943 476 5919</b></p>", "<p>NHS <b>[NHS number removed]</b></p>"),
        ("call <tel:07700900123|07700 900123> now", "call [phone number removed] now"),
        ("to <mailto:jo.bloggs@nhs.net|jo.bloggs@nhs.net>", "to [email address removed]"),
        ("see <https://x.nhs.uk/p/9434765919|record>", "see [NHS number removed]"),
        ("DOB&nbsp;12/03/1950", "DOB&nbsp;[date of birth removed]"),
        ("at LS1&nbsp;4AP", "at [postcode removed]"),
    ],
)  # fmt: skip
def test_identifiers_are_found_in_the_text_as_a_person_reads_it(text: str, redacted: str) -> None:
    assert PrivacyScanner().redact(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "<x 943 476 5919>",
        '<a href="tel:07700900123">ring</a>',
        "<span title='943-476-5919'>x</span>",
    ],
)
def test_an_identifier_cannot_hide_inside_something_shaped_like_a_tag(text: str) -> None:
    redacted = PrivacyScanner().redact(text)
    assert "5919" not in redacted and "0123" not in redacted
    assert "removed]" in redacted


def test_markup_without_identifiers_is_left_exactly_as_sent() -> None:
    text = "a &amp; b <@U123> <https://nhs.uk|NHS> &lt;tag&gt; <b>bold</b> caf\u00e9"
    assert PrivacyScanner().redact(text) == text


_INVISIBLE = st.sampled_from(["", "\u200b", "\u200c", "\u2060", "\ufeff", "\u00ad"])
_SEPARATOR = st.sampled_from(["", " ", "-", "\u00a0", "&nbsp;", "&#160;", "\u202f", "\u2013"])


@settings(deadline=None, max_examples=80)
@given(
    number=_VALID_NHS_NUMBERS,
    invisible=st.lists(_INVISIBLE, min_size=9, max_size=9),
    separators=st.tuples(_SEPARATOR, _SEPARATOR),
)
def test_an_nhs_number_broken_up_by_invisible_characters_or_entities_is_removed(
    number: str, invisible: list[str], separators: tuple[str, str]
) -> None:
    gaps = list(invisible)
    gaps[2] += separators[0]
    gaps[5] += separators[1]
    text = "".join(digit + gap for digit, gap in zip(number, [*gaps, ""], strict=True))
    redacted = PrivacyScanner().redact(f"ref {text} end")
    assert number not in "".join(ch for ch in redacted if ch.isdecimal())
