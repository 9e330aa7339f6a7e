"""The search-request intake form: what it asks, how answers are checked, and the privacy gate.

The form follows the NHS National Searching Guidance in brief: the question, why it is needed
(purpose), when, and the scope a specialist needs to search well. Every free-text answer passes
the privacy scanner before anything is stored: findings come back as field errors, and only an
explicit "remove them and send" stores the request, with each finding replaced by a label.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.desk.privacy import PrivacyScanner
from bot.errors import UserFacingError
from bot.messages import Choice, Form, FormField, RequestPrefill
from bot.signing import Signer
from handlers.actions import SUBMIT_REQUEST

FORM_ID = SUBMIT_REQUEST  # the action its submission means
PRIVACY_ACK = "privacy_ack"
PRIVACY_ACK_VALUE = "remove_and_send"
FORM_STATE_PURPOSE = "request-form-state"

PURPOSES: tuple[Choice, ...] = (
    Choice("direct_patient_care", "Direct patient care"),
    Choice("service_development", "Service development or redesign"),
    Choice("research", "Research"),
    Choice("teaching_education", "Teaching, education or CPD"),
    Choice("policy_management", "Policy, guideline or management decision"),
    Choice("audit_qi", "Audit or quality improvement"),
    Choice("other", "Other"),
)
OUTPUT_FORMATS: tuple[Choice, ...] = (
    Choice("references", "A list of references with abstracts"),
    Choice("summary", "An evidence summary"),
    Choice("key_papers", "A few key papers"),
    Choice("strategy", "The search strategy, to run myself"),
)
FREE_TEXT_FIELDS = ("question", "population", "study_types", "key_papers", "notes")
MAX_QUESTION = 1500


@dataclass(frozen=True)
class IntakeValues:
    """A checked, complete request: what the ticket is created from."""

    question: str
    purpose: str
    deadline: date | None
    date_range: str
    population: str
    study_types: str
    key_papers: str
    output_format: str
    notes: str


class TamperedForm(UserFacingError):
    """A request form's state that the bot did not sign: made up, or changed on the way."""

    def __init__(self) -> None:
        super().__init__(
            "This form was changed after I sent it, so I have not used it and nothing was "
            "sent. Please open the request form again."
        )


@dataclass(frozen=True)
class FormState:
    """Context carried inside the form (where the request was made), never in server memory.

    It decides where the ticket's replies go, and it travels through the client (a Slack
    modal's private_metadata, a Teams card's data, the web page), so it is signed: JSON with
    the channel, the thread and an HMAC of both under the server secret. A state without a
    valid signature is refused (`TamperedForm`), never used."""

    channel_id: str = ""
    thread_id: str | None = None

    def _signed_part(self) -> str:
        return json.dumps([self.channel_id, self.thread_id])

    def encode(self, signer: Signer) -> str:
        signature = signer.signature(FORM_STATE_PURPOSE, self._signed_part())
        return json.dumps({"c": self.channel_id, "t": self.thread_id, "s": signature})

    @classmethod
    def decode(cls, raw: str, signer: Signer) -> FormState:
        try:
            data = json.loads(raw) if raw else None
        except (json.JSONDecodeError, RecursionError) as exc:
            raise TamperedForm() from exc
        if not isinstance(data, dict):
            raise TamperedForm()
        channel, thread = data.get("c"), data.get("t")
        if not isinstance(channel, str) or not (thread is None or isinstance(thread, str)):
            raise TamperedForm()
        state = cls(channel, thread or None)
        if not signer.verify(
            FORM_STATE_PURPOSE, cls(channel, thread)._signed_part(), data.get("s")
        ):
            raise TamperedForm()
        return state


def prefill_value(prefill: RequestPrefill) -> str:
    """The "Open the request form" button's value: the topic and the deadline understood from
    the message, so the form opened from the button has both (a button carries one string)."""
    if prefill.deadline is None:
        return prefill.topic
    return json.dumps(
        {"topic": prefill.topic, "when": prefill.deadline_text, "by": prefill.deadline.isoformat()}
    )


def prefill_from_value(value: str) -> RequestPrefill | None:
    """The prefill a button's value carries: a plain topic, or the topic with its deadline."""
    if not value:
        return None
    if value.startswith("{"):
        try:
            data = json.loads(value)
            by = date.fromisoformat(data["by"])
            when = data.get("when")
            topic = data["topic"]
            if isinstance(topic, str) and (when is None or isinstance(when, str)):
                return RequestPrefill(topic, when, by)
        except (ValueError, KeyError, TypeError):
            pass  # not one of ours: the whole value is the topic
    return RequestPrefill(value)


def request_form(
    prefill: RequestPrefill | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    state: str = "",
    ask_privacy_ack: bool = True,
) -> Form:
    """The form, prefilled from the message or re-shown with the person's answers and errors.

    The "remove them and send" choice is part of the form from the start, so that a privacy
    finding can be shown as errors beside the fields it is about, with the choice already
    there (Slack's native errors can only point at blocks the modal already has)."""
    values = dict(values or {})
    if prefill is not None:
        values.setdefault("question", prefill.topic)
        if prefill.deadline is not None:
            values.setdefault("deadline", prefill.deadline.isoformat())
    fields = [
        FormField("question", "What do you need evidence on?", "textarea", True,
                  values.get("question", ""), "Your question or topic. No patient details, please.",
                  max_length=MAX_QUESTION),
        FormField("purpose", "What is it for?", "choice", True, values.get("purpose", ""),
                  choices=PURPOSES),
        FormField("deadline", "When do you need it by?", "date", False, values.get("deadline", ""),
                  "Leave empty for the standard turnaround."),
        FormField("date_range", "Publication years", "text", False, values.get("date_range", ""),
                  "For example: last 5 years, 2015 onwards", max_length=100),
        FormField("population", "Population or setting", "text", False,
                  values.get("population", ""), "For example: adults in acute wards, UK only",
                  max_length=500),
        FormField("study_types", "Types of evidence", "text", False, values.get("study_types", ""),
                  "For example: guidelines, systematic reviews, RCTs", max_length=500),
        FormField("key_papers", "Key papers you already know", "textarea", False,
                  values.get("key_papers", ""), max_length=1000),
        FormField("output_format", "What would you like back?", "choice", False,
                  values.get("output_format", ""), choices=OUTPUT_FORMATS),
        FormField("notes", "Anything else the specialist should know", "textarea", False,
                  values.get("notes", ""), max_length=1000),
    ]  # fmt: skip
    if ask_privacy_ack:
        fields.append(
            FormField(
                PRIVACY_ACK,
                "If an answer looks like patient details",
                "choice",
                False,
                "",
                "Every answer is checked before anything is saved. Edit what is highlighted, "
                "or choose this to send with those details taken out.",
                (Choice(PRIVACY_ACK_VALUE, "Remove them and send"),),
            )
        )
    return Form(
        form_id=FORM_ID,
        title="Request an evidence search",
        submit_label="Send request",
        fields=tuple(fields),
        errors=tuple((errors or {}).items()),
        notice=notice,
        state=state,  # FormState.encode: signed
    )


def check_values(
    values: Mapping[str, str], today: date
) -> tuple[IntakeValues | None, dict[str, str]]:
    """Field-by-field checks, with messages a person can act on; nothing is truncated."""
    errors: dict[str, str] = {}
    limits = {f.name: f.max_length for f in request_form().fields}
    clean = {k: (values.get(k) or "").strip() for k in limits}
    if not clean["question"]:
        errors["question"] = "Please say what you need evidence on."
    for name, limit in limits.items():
        if len(clean[name]) > limit:
            errors[name] = (
                f"Please keep this under {limit:,} characters (it is {len(clean[name]):,})."
            )
    if clean["purpose"] not in {c.value for c in PURPOSES}:
        errors["purpose"] = "Please choose what the evidence is for."
    if clean["output_format"] and clean["output_format"] not in {c.value for c in OUTPUT_FORMATS}:
        errors["output_format"] = "Please choose one of the options."
    deadline: date | None = None
    if clean["deadline"]:
        try:
            deadline = date.fromisoformat(clean["deadline"])
        except ValueError:
            errors["deadline"] = "Please give a date as YYYY-MM-DD."
        else:
            if deadline < today:
                errors["deadline"] = "That date has passed; please choose a future date."
    if errors:
        return None, errors
    return (
        IntakeValues(
            question=clean["question"],
            purpose=clean["purpose"],
            deadline=deadline,
            date_range=clean["date_range"],
            population=clean["population"],
            study_types=clean["study_types"],
            key_papers=clean["key_papers"],
            output_format=clean["output_format"],
            notes=clean["notes"],
        ),
        {},
    )


def privacy_errors(values: Mapping[str, str], scanner: PrivacyScanner) -> dict[str, str]:
    """One message per free-text field that holds patient-identifiable data (never the data)."""
    found: dict[str, str] = {}
    for name in FREE_TEXT_FIELDS:
        findings = scanner.scan(values.get(name) or "")
        if findings:
            found[name] = scanner.describe(findings)
    return found


def redact_values(values: IntakeValues, scanner: PrivacyScanner) -> IntakeValues:
    """The same request with every finding replaced by its label: what gets stored."""
    return IntakeValues(
        question=scanner.redact(values.question),
        purpose=values.purpose,
        deadline=values.deadline,
        date_range=scanner.redact(values.date_range),
        population=scanner.redact(values.population),
        study_types=scanner.redact(values.study_types),
        key_papers=scanner.redact(values.key_papers),
        output_format=values.output_format,
        notes=scanner.redact(values.notes),
    )
