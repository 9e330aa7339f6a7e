"""Neutral replies and forms as Adaptive Cards (version 1.5), and card submissions back.

Pure functions over plain dicts, with no botbuilder types, so they are tested on their own and
survive a move to another Teams SDK. What Teams shows for a Reply or a Form, and nothing else.

Every control is an `Action.Submit`; its `data` is `{"action": ..., "value": ...}` for a button
and `{"action": form.form_id, "state": form.state}` for a form. Teams posts the data back as
the message activity's `value`, merged with the card's inputs, whose ids are the field names
behind `INPUT_PREFIX` so that a field can never overwrite `action` or `state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from bot.desk.privacy import Finding, PrivacyScanner
from bot.messages import Button, Form, FormField, Reply
from bot.render.teams import escape, inline_markdown, link, markdown_blocks
from bot.render.teams import text_block as _text_block

CONTENT_TYPE: Final = "application/vnd.microsoft.card.adaptive"
SCHEMA: Final = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION: Final = "1.5"
INPUT_PREFIX: Final = "in_"
ACTION_KEY: Final = "action"
VALUE_KEY: Final = "value"
STATE_KEY: Final = "state"
SHOW_FAQ_ACTION: Final = "faq_show"

_STYLES: Final = {"primary": "positive", "danger": "destructive"}
#: Teams shows this many actions side by side; the rest go to the card's "..." menu
#: (Adaptive Cards 1.5 `"mode": "secondary"`), rather than being dropped.
MAX_SHOWN_ACTIONS: Final = 6


Card = dict[str, Any]


def submit_action(title: str, data: Mapping[str, str], style: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": dict(data)}
    if style in _STYLES:
        action["style"] = _STYLES[style]
    return action


def _button_action(button: Button) -> dict[str, Any]:
    return submit_action(
        button.label, {ACTION_KEY: button.action, VALUE_KEY: button.value}, button.style
    )


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> Card:
    card: Card = {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return card


def reply_card(reply: Reply) -> Card:
    """Title (bold), the answer, its sources, then suggestions and buttons as submits."""
    body: list[dict[str, Any]] = []
    if reply.title:
        body.append(_text_block(escape(reply.title), weight="Bolder", size="Medium"))
    body.extend(markdown_blocks(reply.text))
    if reply.sources:
        links = " · ".join(link(source.url, source.title) for source in reply.sources)
        body.append(_text_block(f"Source: {links}", size="Small", isSubtle=True, spacing="Medium"))
    shown = {(b.action, b.value) for b in reply.buttons}
    suggested = [
        Button(s.title, SHOW_FAQ_ACTION, s.faq_id)
        for s in reply.suggestions
        if (SHOW_FAQ_ACTION, s.faq_id) not in shown
    ]
    actions = [_button_action(b) for b in (*suggested, *reply.buttons)]
    for action in actions[MAX_SHOWN_ACTIONS:]:
        action["mode"] = "secondary"
    return _card(body, actions)


def text_card(text: str) -> Card:
    return _card(markdown_blocks(text), [])


def _input(field: FormField) -> dict[str, Any]:
    element: dict[str, Any] = {"id": INPUT_PREFIX + field.name, "label": field.label}
    if field.kind in {"choice", "multichoice"}:
        element |= {
            "type": "Input.ChoiceSet",
            "style": "compact",
            "choices": [{"title": c.label, "value": c.value} for c in field.choices],
        }
        known = {c.value for c in field.choices}
        if field.kind == "multichoice":
            element["isMultiSelect"] = True
            chosen = [v for v in field.value.split(",") if v in known]
            if chosen:
                element["value"] = ",".join(chosen)
        elif field.value in known:
            element["value"] = field.value
    elif field.kind == "date":
        element["type"] = "Input.Date"
        if field.value:
            element["value"] = field.value
    else:
        element |= {
            "type": "Input.Text",
            "isMultiline": field.kind == "textarea",
            "maxLength": field.max_length,
        }
        if field.value:
            element["value"] = field.value
    if field.required:
        element["isRequired"] = True
        element["errorMessage"] = f"Please fill in: {field.label}"
    return element


def form_card(form: Form) -> Card:
    """The form: notice on top, each input with its label, hint and (red) error, and a submit
    carrying the form's action and state."""
    body: list[dict[str, Any]] = [_text_block(escape(form.title), weight="Bolder", size="Medium")]
    if form.notice:
        body.append(_text_block(inline_markdown(form.notice), color="Attention", weight="Bolder"))
    for field in form.fields:
        body.append(_input(field))
        error = form.error_for(field.name)
        if error:
            body.append(_text_block(inline_markdown(error), color="Attention", spacing="None"))
        if field.hint:
            body.append(
                _text_block(escape(field.hint), size="Small", isSubtle=True, spacing="None")
            )
    submit = submit_action(
        form.submit_label, {ACTION_KEY: form.form_id, STATE_KEY: form.state}, "primary"
    )
    return _card(body, [submit])


#: Shown on a form card in a channel or group chat whose answers had identifiers taken out.
SHARED_FORM_NOTICE: Final = (
    "Some answers were changed before this form was shown here: details that looked "
    "patient-identifiable were taken out. Check the answers and send again."
)


#: Follows the privacy warning sent privately about a form submitted in a shared conversation.
FORM_WARNING_NOTE: Final = (
    "(About the request form you sent in a shared conversation: it is shown there with those "
    "details taken out.)"
)


@dataclass(frozen=True)
class SharedForm:
    """A form made fit for a conversation others can read, and what only its sender may see."""

    form: Form
    #: The privacy warning for the sender alone; empty when nothing was taken out.
    warning: str = ""


def shared_form(form: Form, scanner: PrivacyScanner) -> SharedForm:
    """The form as everyone in a channel or group chat may see it.

    Teams has no card that only one member of a channel sees, and a form sent back with its
    answers prefilled would show a patient's NHS number to the whole channel. So each answer
    is shown with its identifiers replaced by labels, the field errors and notice that name
    what was found are left off the shared card (they are the sender's warning, returned
    separately, to be sent to them privately), and a neutral notice says answers were changed.
    """
    found: dict[str, list[Finding]] = {}
    for field in form.fields:
        findings = scanner.scan(field.value) if field.value else []
        if findings:
            found[field.name] = findings
    if not found:
        return SharedForm(form)
    fields = tuple(
        replace(f, value=scanner.redact(f.value, found[f.name])) if f.name in found else f
        for f in form.fields
    )
    errors = tuple((name, error) for name, error in form.errors if name not in found)
    warning = scanner.describe([finding for each in found.values() for finding in each])
    return SharedForm(
        replace(form, fields=fields, errors=errors, notice=SHARED_FORM_NOTICE), warning
    )


def attachment(card: Card) -> dict[str, Any]:
    """The card as a Bot Framework attachment (JSON shape)."""
    return {"contentType": CONTENT_TYPE, "content": card}


@dataclass(frozen=True)
class Submission:
    """What a card's Action.Submit sent: the action, a button's value or a form's state and
    answers. `from_form` is true when it came from a form card (it carries `state`)."""

    action: str
    value: str = ""
    state: str = ""
    values: tuple[tuple[str, str], ...] = ()
    from_form: bool = False


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_submission(data: Any) -> Submission | None:
    """A message activity's `value` as a Submission; None if it is not one of our cards'."""
    if not isinstance(data, Mapping):
        return None
    action = data.get(ACTION_KEY)
    if not isinstance(action, str) or not action:
        return None
    values = tuple(
        (str(key)[len(INPUT_PREFIX) :], _as_text(value))
        for key, value in data.items()
        if isinstance(key, str) and key.startswith(INPUT_PREFIX)
    )
    return Submission(
        action=action,
        value=_as_text(data.get(VALUE_KEY)),
        state=_as_text(data.get(STATE_KEY)),
        values=values,
        from_form=STATE_KEY in data,
    )
