"""Neutral replies and forms as Block Kit: messages, modals and field errors.

Pure functions: what Slack would show for a Reply or a Form, and nothing else.
"""

from __future__ import annotations

from typing import Any

from bot.messages import Button, Form, FormField, Reply
from bot.render.slack import escape, link, mrkdwn
from bot.render.text import plain_text

SECTION_LIMIT = 3000
ACTION_SEPARATOR = "|"
FALLBACK_LIMIT = 300


def action_id(button: Button, index: int) -> str:
    """Slack wants action ids unique within a message; the index keeps them so."""
    return f"{button.action}{ACTION_SEPARATOR}{index}"


def action_name(slack_action_id: str) -> str:
    return slack_action_id.split(ACTION_SEPARATOR, 1)[0]


def _sections(text: str) -> list[dict[str, Any]]:
    chunks = [text[i : i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)] or [" "]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def blocks(reply: Reply) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if reply.warning:
        out.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f":warning: {mrkdwn(reply.warning)}"}],
            }
        )
    body = mrkdwn(reply.text)
    if reply.title and reply.faq_id:
        body = f"*{escape(reply.title)}*\n{body}"
    out.extend(_sections(body))
    if reply.sources:
        links = " · ".join(link(s.url, s.title) for s in reply.sources)
        out.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Source: {links}"}]}
        )
    if reply.buttons:
        elements = []
        for index, button in enumerate(reply.buttons[:25]):
            element: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": button.label[:75]},
                "action_id": action_id(button, index),
                "value": button.value[:2000],
            }
            if button.style in {"primary", "danger"}:
                element["style"] = button.style
            elements.append(element)
        out.append({"type": "actions", "elements": elements})
    return out


def fallback_text(reply: Reply) -> str:
    """The plain text Slack shows in notifications and to screen readers: no Markdown marks,
    cut before escaping so that an entity is never cut in half."""
    words = (reply.title + ": " if reply.title else "") + plain_text(reply.text)
    return escape(words[:FALLBACK_LIMIT])


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value}


def _element(field: FormField) -> dict[str, Any]:
    if field.kind in {"text", "textarea"}:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": field.name,
            "multiline": field.kind == "textarea",
            "max_length": min(field.max_length, 3000),
        }
        if field.value:
            element["initial_value"] = field.value[: element["max_length"]]
        return element
    if field.kind == "date":
        element = {"type": "datepicker", "action_id": field.name}
        if field.value:
            element["initial_date"] = field.value
        return element
    options = [_option(c.value, c.label) for c in field.choices]
    if field.kind == "multichoice":
        element = {"type": "checkboxes", "action_id": field.name, "options": options}
        chosen = [o for o in options if o["value"] in field.value.split(",")]
        if chosen:
            element["initial_options"] = chosen
        return element
    element = {"type": "static_select", "action_id": field.name, "options": options}
    chosen = [o for o in options if o["value"] == field.value]
    if chosen:
        element["initial_option"] = chosen[0]
    return element


def modal(form: Form) -> dict[str, Any]:
    view_blocks: list[dict[str, Any]] = []
    if form.notice:
        view_blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f":warning: {mrkdwn(form.notice)}"},
            }
        )
    for field in form.fields:
        block: dict[str, Any] = {
            "type": "input",
            "block_id": field.name,
            "label": {"type": "plain_text", "text": field.label[:2000]},
            "element": _element(field),
            "optional": not field.required,
        }
        if field.hint:
            block["hint"] = {"type": "plain_text", "text": field.hint[:2000]}
        view_blocks.append(block)
        error = form.error_for(field.name)
        if error:
            # Shown when the modal is replaced (response_action "update"), where Slack's own
            # inline errors cannot be used.
            view_blocks.append(
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": f":warning: {mrkdwn(error)}"}],
                }
            )
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "private_metadata": form.state[:3000],
        "title": {"type": "plain_text", "text": form.title[:24]},
        "submit": {"type": "plain_text", "text": form.submit_label[:24]},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": view_blocks,
    }


def field_errors(form: Form) -> dict[str, str]:
    """`response_action: errors` keys are block ids, which are the field names."""
    return {name: message[:150] for name, message in form.errors}


class MalformedSubmission(ValueError):
    """A view submission that is not shaped as Slack sends one: the sender's error (a 400)."""


def _text_value(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedSubmission(f"{where} must be text")
    return value


def _option_value(option: Any, where: str) -> str:
    if option is None:
        return ""
    if not isinstance(option, dict):
        raise MalformedSubmission(f"{where} must be an option object")
    return _text_value(option.get("value"), f"{where}.value")


def submitted_values(state_values: Any) -> dict[str, str]:
    """A view_submission's `view.state.values` as plain field name -> string; raises
    `MalformedSubmission` (naming the part) for anything not shaped as Slack sends it."""
    if not isinstance(state_values, dict):
        raise MalformedSubmission("view.state.values must be an object")
    values: dict[str, str] = {}
    for block_id, actions in state_values.items():
        if not isinstance(actions, dict):
            raise MalformedSubmission(f"view.state.values.{block_id} must be an object")
        for action, element in actions.items():
            where = f"view.state.values.{block_id}.{action}"
            if not isinstance(element, dict):
                raise MalformedSubmission(f"{where} must be an object")
            kind = element.get("type")
            if kind == "datepicker":
                value = _text_value(element.get("selected_date"), f"{where}.selected_date")
            elif kind == "static_select":
                value = _option_value(element.get("selected_option"), f"{where}.selected_option")
            elif kind in {"checkboxes", "multi_static_select"}:
                options = element.get("selected_options")
                if options is None:
                    options = []
                if not isinstance(options, list):
                    raise MalformedSubmission(f"{where}.selected_options must be a list")
                value = ",".join(
                    _option_value(o, f"{where}.selected_options[{i}]")
                    for i, o in enumerate(options)
                )
            else:
                value = _text_value(element.get("value"), f"{where}.value")
            values[str(block_id)] = value
    return values


def submission_problem(body: dict[str, Any]) -> str | None:
    """Why a view_submission payload cannot be taken, or None if it can."""
    if not isinstance(body.get("user"), dict):
        return "user must be an object"
    view = body.get("view")
    if not isinstance(view, dict):
        return "view must be an object"
    for name in ("callback_id", "private_metadata", "id"):
        if name in view and not isinstance(view[name], str):
            return f"view.{name} must be text"
    state = view.get("state", {})
    if not isinstance(state, dict):
        return "view.state must be an object"
    if not isinstance(view.get("blocks", []), list):
        return "view.blocks must be a list"
    try:
        submitted_values(state.get("values", {}))
    except MalformedSubmission as exc:
        return str(exc)
    return None
