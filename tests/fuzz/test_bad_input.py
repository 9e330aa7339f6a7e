"""Property-based bad input: whatever arrives, no crash, no 500, a clear error.

Hypothesis generates the inputs; each property is bounded (a fixed number of examples, no
deadline flakiness on a busy machine).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.desk.privacy import Finding, FindingKind, PrivacyScanner
from handlers.answers import Answerer
from knowledge.loader import SourceFile, parse_entry
from knowledge.markup import clean_markup
from tests.scenario.conftest import SlackWorld, signed_headers
from tests.scenario.conftest import slack as slack  # the fixture, shared

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.text(max_size=3000))
def test_kb_loader_reports_problems_and_never_raises(text: str) -> None:
    problems: list[Any] = []
    entry = parse_entry(
        SourceFile("fuzz.md", "---\n" + text),
        {"library_email": "a@b.nhs.uk"},
        problems,
        date(2026, 11, 22),
    )
    assert entry is not None or problems
    assert all(p.line >= 1 for p in problems)


def outside_findings(text: str, findings: list[Finding]) -> list[str]:
    """The stretches of `text` no finding touches, in order (empty ones included)."""
    kept, position = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start >= position:
            kept.append(text[position : finding.start])
        position = max(position, finding.end)
    kept.append(text[position:])
    return kept


LABEL = "(?:" + "|".join(re.escape(Finding(kind, 0, 1).label) for kind in FindingKind) + ")+"


@FUZZ
@given(st.text(max_size=5000))
@example("Seen today, NHS 943 476 5919; notes follow.")
def test_privacy_scanner_never_raises_and_redaction_keeps_the_rest(text: str) -> None:
    scanner = PrivacyScanner()
    findings = scanner.scan(text)
    redacted = scanner.redact(text, findings)
    # Every identifier became a label, and the text around them is exactly as it was.
    expected = LABEL.join(re.escape(part) for part in outside_findings(text, findings))
    assert re.fullmatch(expected, redacted, flags=re.DOTALL)
    assert len(scanner.scan(redacted)) <= len(findings)


@FUZZ
@given(st.text(max_size=5000))
def test_markup_cleaning_and_answering_never_raise(answerer: Answerer, text: str) -> None:
    cleaned = clean_markup(text)
    assert "<@" not in cleaned or ">" not in cleaned.split("<@", 1)[1][:15]
    reply = answerer.answer(text).reply
    assert reply.text


@FUZZ
@given(json_values)
async def test_signed_slack_json_of_any_shape_never_gets_a_500(
    slack: SlackWorld, body: Any
) -> None:
    raw = json.dumps(body)
    response = await slack.client.post(
        "/slack/events",
        data=raw,
        headers={"Content-Type": "application/json", **signed_headers(raw)},
    )
    assert response.status < 500


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["payload", "command", "text", "type", "user_id"]), st.text(max_size=200)
    )
)
async def test_signed_slack_forms_of_any_shape_never_get_a_500(
    slack: SlackWorld, fields: dict[str, str]
) -> None:
    status, _ = await slack.post_form(fields)
    assert status < 500
