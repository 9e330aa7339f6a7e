"""The search-request form: prefill, checks a person can act on, and the privacy gate."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.desk.privacy import PrivacyScanner
from bot.messages import RequestPrefill
from bot.signing import Signer
from handlers.intake import (
    PRIVACY_ACK,
    FormState,
    TamperedForm,
    check_values,
    privacy_errors,
    redact_values,
    request_form,
)

TODAY = date(2026, 11, 22)
VALID_NHS = "943 476 5919"


def good_values(**overrides: str) -> dict[str, str]:
    values = {"question": "falls prevention in care homes", "purpose": "service_development"}
    values.update(overrides)
    return values


def test_form_is_prefilled_with_topic_and_deadline() -> None:
    form = request_form(RequestPrefill("delirium screening", "by Friday", date(2026, 11, 27)))
    fields = {f.name: f.value for f in form.fields}
    assert fields["question"] == "delirium screening"
    assert fields["deadline"] == "2026-11-27"


def test_form_asks_for_purpose_with_the_national_categories() -> None:
    purpose = next(f for f in request_form().fields if f.name == "purpose")
    assert purpose.required
    assert {c.value for c in purpose.choices} >= {"direct_patient_care", "research", "audit_qi"}


def test_complete_answers_pass_the_checks() -> None:
    values, errors = check_values(good_values(deadline="2026-12-01"), TODAY)
    assert errors == {}
    assert values is not None
    assert values.deadline == date(2026, 12, 1)


def test_missing_question_and_purpose_are_field_errors() -> None:
    values, errors = check_values({"question": "  "}, TODAY)
    assert values is None
    assert set(errors) == {"question", "purpose"}


def test_past_deadline_is_refused() -> None:
    _, errors = check_values(good_values(deadline="2026-11-01"), TODAY)
    assert "passed" in errors["deadline"]


def test_malformed_deadline_is_refused() -> None:
    _, errors = check_values(good_values(deadline="next friday"), TODAY)
    assert "YYYY-MM-DD" in errors["deadline"]


def test_over_long_answer_is_refused_not_cut() -> None:
    _, errors = check_values(good_values(notes="x" * 1001), TODAY)
    assert "1,000" in errors["notes"]


def test_nhs_number_in_any_free_text_field_is_flagged_without_quoting_it() -> None:
    errors = privacy_errors(good_values(notes=f"patient {VALID_NHS}"), PrivacyScanner())
    assert list(errors) == ["notes"]
    assert "NHS number" in errors["notes"]
    assert "5919" not in errors["notes"]


def test_clean_request_has_no_privacy_errors() -> None:
    assert privacy_errors(good_values(), PrivacyScanner()) == {}


def test_redacted_values_keep_no_identifier() -> None:
    values, _ = check_values(
        good_values(question=f"evidence for {VALID_NHS} DOB 12/03/1950"), TODAY
    )
    assert values is not None
    redacted = redact_values(values, PrivacyScanner())
    assert "5919" not in redacted.question
    assert "1950" not in redacted.question
    assert "[NHS number removed]" in redacted.question


def test_privacy_warning_form_offers_to_remove_and_send() -> None:
    form = request_form(values=good_values(), errors={"question": "x"}, ask_privacy_ack=True)
    assert form.fields[-1].name == PRIVACY_ACK
    assert form.error_for("question") == "x"


SIGNER = Signer(b"unit-test key")


def test_form_state_round_trips_the_thread() -> None:
    state = FormState("C123", "1700000000.000100")
    assert FormState.decode(state.encode(SIGNER), SIGNER) == state


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{not json",
        "[1, 2]",
        '{"c": "C123", "t": null}',  # unsigned
        '{"c": "C123", "t": null, "s": "made-up"}',
        '{"c": 5, "t": null, "s": "x"}',
    ],
)
def test_a_form_state_the_bot_did_not_sign_is_refused(raw: str) -> None:
    with pytest.raises(TamperedForm):
        FormState.decode(raw, SIGNER)


def test_a_signed_form_state_with_its_channel_changed_is_refused() -> None:
    data = json.loads(FormState("C123", "1700000000.000100").encode(SIGNER))
    data["c"] = "C0ATTACKER"
    with pytest.raises(TamperedForm, match="changed after I sent it"):
        FormState.decode(json.dumps(data), SIGNER)


def test_a_form_state_signed_with_another_key_is_refused() -> None:
    other = FormState("C123", None).encode(Signer(b"another key"))
    with pytest.raises(TamperedForm):
        FormState.decode(other, SIGNER)
