from datetime import date

import pytest

from handlers.deadlines import find_deadline, resolve_deadline

SUNDAY = date(2026, 11, 22)


def test_deadline_phrase_is_taken_out_of_the_request() -> None:
    phrase, rest = find_deadline("lit search on falls by Friday please")
    assert phrase == "by Friday"
    assert rest == "lit search on falls please"


def test_text_without_deadline_is_unchanged() -> None:
    assert find_deadline("evidence for sepsis bundles") == (None, "evidence for sepsis bundles")


def test_a_number_after_for_is_not_a_deadline() -> None:
    assert find_deadline("evidence for 3 patient groups")[0] is None


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("by Friday", date(2026, 11, 27)),
        ("before the MDT on the 3rd", date(2026, 12, 3)),
        ("by 12/01", date(2027, 1, 12)),
        ("due 2026-12-10", date(2026, 12, 10)),
        ("by end of the month", date(2026, 11, 30)),
        ("for tomorrow", date(2026, 11, 23)),
        ("asap", SUNDAY),
        ("within 2 weeks", date(2026, 12, 6)),
    ],
)
def test_deadline_phrase_resolves_to_a_date(phrase: str, expected: date) -> None:
    assert resolve_deadline(phrase, SUNDAY) == expected


def test_impossible_date_resolves_to_nothing() -> None:
    assert resolve_deadline("by 31/02/2027", SUNDAY) is None
