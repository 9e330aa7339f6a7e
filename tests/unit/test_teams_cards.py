"""Replies and forms as Adaptive Cards, and card submissions back (bot/platforms/teams/cards.py)."""

from __future__ import annotations

import json
from typing import Any

from bot.desk.privacy import PrivacyScanner
from bot.messages import (
    Button,
    Choice,
    Form,
    FormField,
    Intent,
    Reply,
    SourceLink,
    Suggestion,
)
from bot.platforms.teams.cards import (
    SHARED_FORM_NOTICE,
    SharedForm,
    attachment,
    form_card,
    parse_submission,
    reply_card,
    shared_form,
)
from bot.render.teams import markdown_blocks
from handlers.intake import request_form


def texts(card: dict[str, Any]) -> list[str]:
    return [block["text"] for block in card["body"] if block["type"] == "TextBlock"]


def by_id(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["id"]: block for block in card["body"] if "id" in block}


FAQ = Reply(
    text="To **reset** it:\n1. Go to the sign-in page.\n2. Choose *Forgotten password*.",
    intent=Intent.FAQ,
    title="Forgotten OpenAthens password",
    faq_id="openathens-forgotten-password",
    sources=(SourceLink("NHS OpenAthens", "https://openathens.nice.org.uk/"),),
    buttons=(
        Button("Helpful", "faq_helpful", "openathens-forgotten-password"),
        Button("Ask a librarian", "request_open", "", "primary"),
    ),
)


def test_reply_card_is_an_adaptive_card_1_5() -> None:
    card = reply_card(FAQ)
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.5")


def test_reply_card_starts_with_the_title_in_bold() -> None:
    title = reply_card(FAQ)["body"][0]
    assert (title["text"], title["weight"]) == ("Forgotten OpenAthens password", "Bolder")


def test_reply_text_keeps_the_markdown_teams_renders() -> None:
    assert "To **reset** it:" in texts(reply_card(FAQ))


def test_list_items_share_one_text_block_separated_by_carriage_returns() -> None:
    assert "1. Go to the sign-in page.\r2. Choose _Forgotten password_." in texts(reply_card(FAQ))


def test_star_bullets_become_dashes() -> None:
    (block,) = markdown_blocks("* one\n* two")
    assert block["text"] == "- one\r- two"


def test_blank_line_becomes_a_larger_gap() -> None:
    first, second = markdown_blocks("One.\n\nTwo.")
    assert "spacing" not in first
    assert second["spacing"] == "Medium"


def test_empty_text_still_makes_a_valid_block() -> None:
    assert markdown_blocks("") == [{"type": "TextBlock", "text": " ", "wrap": True}]


def test_sources_are_one_line_of_links() -> None:
    assert "Source: [NHS OpenAthens](https://openathens.nice.org.uk/)" in texts(reply_card(FAQ))


def test_buttons_are_submits_carrying_action_and_value() -> None:
    helpful, ask = reply_card(FAQ)["actions"]
    assert helpful == {
        "type": "Action.Submit",
        "title": "Helpful",
        "data": {"action": "faq_helpful", "value": "openathens-forgotten-password"},
    }
    assert ask["style"] == "positive"


def test_suggestions_become_show_faq_submits() -> None:
    reply = Reply(
        text="Did you mean?", intent=Intent.UNKNOWN, suggestions=(Suggestion("opening", "Hours"),)
    )
    (action,) = reply_card(reply)["actions"]
    assert (action["title"], action["data"]) == (
        "Hours",
        {"action": "faq_show", "value": "opening"},
    )


def test_a_suggestion_already_shown_as_a_button_is_not_repeated() -> None:
    reply = Reply(
        text="Did you mean?",
        intent=Intent.UNKNOWN,
        suggestions=(Suggestion("opening", "Hours"),),
        buttons=(Button("Hours", "faq_show", "opening"),),
    )
    assert len(reply_card(reply)["actions"]) == 1


def test_reply_without_controls_has_no_actions() -> None:
    assert "actions" not in reply_card(Reply(text="Bye for now.", intent=Intent.SMALLTALK))


def test_attachment_wraps_the_card_with_the_adaptive_content_type() -> None:
    card = reply_card(FAQ)
    assert attachment(card) == {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": card,
    }


FORM = Form(
    form_id="request_submit",
    title="Request an evidence search",
    submit_label="Send request",
    fields=(
        FormField("question", "What do you need?", "textarea", True, "falls", "No patient details", max_length=1500),
        FormField("date_range", "Publication years", "text", False, max_length=100),
        FormField("purpose", "What is it for?", "choice", True, "research",
                  choices=(Choice("research", "Research"), Choice("other", "Other"))),
        FormField("how_used", "How did you use it?", "multichoice", False, "teaching,policy",
                  choices=(Choice("teaching", "Teaching"), Choice("policy", "Policy"), Choice("other", "Other"))),
        FormField("deadline", "When by?", "date", False, "2026-12-01"),
    ),
    state='{"c": "19:ward", "t": null}',
)  # fmt: skip


def test_textarea_is_a_multiline_text_input_with_its_limit_and_value() -> None:
    question = by_id(form_card(FORM))["in_question"]
    assert question["type"] == "Input.Text"
    assert (question["isMultiline"], question["maxLength"], question["value"]) == (
        True,
        1500,
        "falls",
    )


def test_text_field_is_a_single_line_input() -> None:
    assert by_id(form_card(FORM))["in_date_range"]["isMultiline"] is False


def test_inputs_carry_their_labels() -> None:
    assert by_id(form_card(FORM))["in_purpose"]["label"] == "What is it for?"


def test_required_field_is_marked_required_with_an_error_message() -> None:
    question = by_id(form_card(FORM))["in_question"]
    assert question["isRequired"] is True
    assert "What do you need?" in question["errorMessage"]


def test_optional_field_is_not_marked_required() -> None:
    assert "isRequired" not in by_id(form_card(FORM))["in_date_range"]


def test_choice_is_a_compact_choice_set_with_its_current_value() -> None:
    purpose = by_id(form_card(FORM))["in_purpose"]
    assert (purpose["type"], purpose["style"], purpose["value"]) == (
        "Input.ChoiceSet",
        "compact",
        "research",
    )
    assert purpose["choices"][0] == {"title": "Research", "value": "research"}


def test_multichoice_is_a_multi_select_with_comma_separated_values() -> None:
    used = by_id(form_card(FORM))["in_how_used"]
    assert (used["isMultiSelect"], used["value"]) == (True, "teaching,policy")


def test_date_field_is_a_date_input() -> None:
    deadline = by_id(form_card(FORM))["in_deadline"]
    assert (deadline["type"], deadline["value"]) == ("Input.Date", "2026-12-01")


def test_hint_is_shown_under_its_input() -> None:
    body = form_card(FORM)["body"]
    index = next(i for i, block in enumerate(body) if block.get("id") == "in_question")
    assert body[index + 1]["text"] == "No patient details"


def test_field_error_is_a_red_text_block_right_under_its_input() -> None:
    form = Form(
        form_id=FORM.form_id,
        title=FORM.title,
        submit_label=FORM.submit_label,
        fields=FORM.fields,
        errors=(("question", "It looks like an NHS number."),),
    )
    body = form_card(form)["body"]
    index = next(i for i, block in enumerate(body) if block.get("id") == "in_question")
    assert body[index + 1]["text"] == "It looks like an NHS number."
    assert body[index + 1]["color"] == "Attention"


def test_notice_is_shown_at_the_top_in_red() -> None:
    form = Form(
        form_id="x", title="T", submit_label="Send", fields=(), notice="Remove patient details."
    )
    _, notice = form_card(form)["body"]
    assert (notice["text"], notice["color"]) == ("Remove patient details.", "Attention")


def test_submit_carries_the_form_action_and_state() -> None:
    (submit,) = form_card(FORM)["actions"]
    assert submit["type"] == "Action.Submit"
    assert submit["title"] == "Send request"
    assert submit["data"] == {"action": "request_submit", "state": '{"c": "19:ward", "t": null}'}


def test_button_submission_is_parsed() -> None:
    submission = parse_submission({"action": "faq_helpful", "value": "opening-hours"})
    assert submission is not None
    assert (submission.action, submission.value, submission.from_form) == (
        "faq_helpful",
        "opening-hours",
        False,
    )


def test_form_submission_returns_the_inputs_by_field_name_and_the_state() -> None:
    submission = parse_submission(
        {"action": "request_submit", "state": "s1", "in_question": "falls", "in_how_used": "a,b"}
    )
    assert submission is not None
    assert submission.from_form is True
    assert submission.state == "s1"
    assert submission.values == (("question", "falls"), ("how_used", "a,b"))


def test_an_input_cannot_overwrite_the_action() -> None:
    form = Form(form_id="request_submit", title="T", submit_label="Send",
                fields=(FormField("action", "A field unluckily named action"),))  # fmt: skip
    (submit,) = form_card(form)["actions"]
    typed = submit["data"] | {"in_action": "ticket_claim"}  # what Teams merges in
    submission = parse_submission(typed)
    assert submission is not None
    assert submission.action == "request_submit"
    assert submission.values == (("action", "ticket_claim"),)


def test_non_string_input_values_become_text() -> None:
    submission = parse_submission({"action": "x", "state": "", "in_agree": True, "in_hours": 2})
    assert submission is not None
    assert submission.values == (("agree", "true"), ("hours", "2"))


def test_value_without_an_action_is_not_a_submission() -> None:
    assert parse_submission({"in_question": "falls"}) is None


def test_value_that_is_not_an_object_is_not_a_submission() -> None:
    assert parse_submission("request_submit") is None


# ---- forms in shared conversations (issue 14, item 11) ----------------------------------------


def test_a_form_shared_with_a_channel_shows_answers_without_identifiers() -> None:
    scanner = PrivacyScanner()
    answers = {"question": "falls for 943 476 5919", "notes": "none", "purpose": "research"}
    errors = {"question": scanner.describe(scanner.scan(answers["question"]))}
    shared = shared_form(
        request_form(values=answers, errors=errors, notice="Patient details!"), scanner
    )
    values = {f.name: f.value for f in shared.form.fields}
    assert values["question"] == "falls for [NHS number removed]"
    assert values["notes"] == "none"
    assert shared.form.errors == ()
    assert shared.form.notice == SHARED_FORM_NOTICE
    assert shared.warning.startswith("It looks like your message contains an NHS number")
    assert "5919" not in json.dumps(form_card(shared.form))


def test_a_form_without_identifiers_is_shared_as_it_is() -> None:
    form = request_form(values={"question": "falls prevention"}, errors={"purpose": "Choose one"})
    assert shared_form(form, PrivacyScanner()) == SharedForm(form)
