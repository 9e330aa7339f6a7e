"""The neutral messages that flow between platform adapters and the handlers.

Adapters turn a Slack event, a Teams activity or a web-chat post into an `IncomingMessage`, and a
`Reply` into Block Kit, an Adaptive Card or HTML. Nothing here knows any platform, so one
conversation flow serves all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum


class Platform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    WEB = "web"
    CLI = "cli"


class Intent(StrEnum):
    FAQ = "faq"
    SEARCH_REQUEST = "search_request"
    SMALLTALK = "smalltalk"
    UNKNOWN = "unknown"
    #: An emergency or a risk to life: signposted to 999 / NHS 111 / A&E, nothing else.
    URGENT = "urgent"


@dataclass(frozen=True)
class IncomingMessage:
    """Something a person said to the bot, wherever they said it."""

    platform: Platform
    user_id: str
    text: str
    conversation_id: str = ""
    thread_id: str | None = None
    message_id: str | None = None
    user_name: str | None = None
    is_direct: bool = False
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class UserAction:
    """A button press or form submission, wherever it happened.

    `values` holds a submitted form's answers by field name; `form_state` is the state the
    form was opened with. `event_id` is the platform's id for this delivery, used so that a
    retried submission creates nothing twice.
    """

    platform: Platform
    user_id: str
    action: str
    value: str = ""
    user_name: str | None = None
    channel_id: str = ""
    thread_id: str | None = None
    values: tuple[tuple[str, str], ...] = ()
    form_state: str = ""
    event_id: str | None = None

    def answers(self) -> dict[str, str]:
        return dict(self.values)


@dataclass(frozen=True)
class SourceLink:
    title: str
    url: str


@dataclass(frozen=True)
class Button:
    """A control under a reply; `action` names what the handlers do when it is pressed."""

    label: str
    action: str
    value: str = ""
    style: str | None = None  # "primary" or "danger" where the platform has them


@dataclass(frozen=True)
class RequestPrefill:
    """What the search-request form can be prefilled with, taken from the person's message."""

    topic: str
    deadline_text: str | None = None
    deadline: date | None = None


@dataclass(frozen=True)
class Suggestion:
    faq_id: str
    title: str


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One input of a form; adapters render it as a Block Kit input, an Adaptive Card input or
    an HTML control. `kind` is "text", "textarea", "choice" or "date" (ISO yyyy-mm-dd)."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    value: str = ""
    hint: str = ""
    choices: tuple[Choice, ...] = ()
    max_length: int = 2000


@dataclass(frozen=True)
class Form:
    """A form to show the person (a Slack modal, a Teams card, a web form).

    `errors` maps field names to messages shown beside them; `notice` is shown above the
    fields (the privacy warning, for example). `state` travels with the form and comes back
    on submit, so the handler can keep context (the original thread) without server memory.
    """

    form_id: str
    title: str
    submit_label: str
    fields: tuple[FormField, ...]
    errors: tuple[tuple[str, str], ...] = ()
    notice: str | None = None
    state: str = ""

    def error_for(self, name: str) -> str | None:
        return dict(self.errors).get(name)


@dataclass(frozen=True)
class Reply:
    """What the bot says back, in light Markdown (**bold**, bullets, [label](url)).

    Adapters render `text`, then `sources` as the answer's provenance, then `suggestions` and
    `buttons` as controls.
    """

    text: str
    intent: Intent
    title: str | None = None
    faq_id: str | None = None
    score: float | None = None
    sources: tuple[SourceLink, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    buttons: tuple[Button, ...] = ()
    prefill: RequestPrefill | None = None
    form: Form | None = None
    ephemeral: bool = False
    #: Shown privately to the sender, above the reply (patient details found in the message).
    warning: str | None = None


GENERIC_APOLOGY = (
    "Sorry, something went wrong on my side and I couldn't do that. Nothing you sent was lost; "
    "please try again in a minute, or contact the library."
)


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a channel or conversation, optionally a thread within it.

    `visible_to`: a user id when only that person may see the message (a warning about the
    patient details they typed, an answer to a slash command): Slack posts it ephemeral,
    Teams in the person's one-to-one chat with the bot, the web chat in their own thread."""

    platform: str
    channel_id: str
    thread_id: str | None = None
    visible_to: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What to show the person who acted: a form (again, with errors) or a reply.

    `reply_to`: where a shared reply goes when the core knows better than the place the
    button was pressed (a request form's confirmation goes to the thread the request was
    made in). `queued`: the shared reply is already in the outbox (bot/delivery/inbox.py), so the
    adapter shows nothing more of it."""

    reply: Reply | None = None
    form: Form | None = None
    reply_to: Destination | None = None
    queued: bool = False
