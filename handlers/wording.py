"""What the bot calls things on each platform, in one place.

The core decides what to say; how a person does something differs by platform (a Slack thread
and slash command, a Teams mention, the web chat's message box), so sentences that tell a
person what to do next take their words from here, by the platform the message or action
came from. A platform not listed gets the web chat's plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Wording:
    #: Where a requester answers a specialist's question.
    reply_here: str
    #: How to ask the bot something, or start a request.
    how_to_ask: str
    #: The platform's name as people know it (on specialists' cards).
    platform_name: str
    #: Who a person is when the platform gives no name.
    nameless_person: str
    #: "listen on" said where there is no channel to switch.
    listen_where: str


_SLACK: Final = Wording(
    reply_here="Please reply in this thread.",
    how_to_ask="Mention me with a question, or use /evidence request.",
    platform_name="Slack",
    nameless_person="a Slack user",
    listen_where="Listening mode is switched on or off per channel, not in a direct chat. In the "
    "channel, mention me with **listen on** (or **listen off**, **listen status**).",
)
_TEAMS: Final = Wording(
    reply_here="Please reply to this message here.",
    how_to_ask="Mention me with a question, or ask me to find evidence (for example: "
    "*can you find evidence on falls prevention?*).",
    platform_name="Teams",
    nameless_person="a Teams user",
    listen_where="Listening mode is switched on or off per channel, not in a personal chat. In "
    "the channel, @mention Evidence Desk with **listen on** (or **listen off**, **listen status**).",
)
_WEB: Final = Wording(
    reply_here="Please type your answer in the chat below.",
    how_to_ask="Type a question below, or ask for an evidence search (for example: "
    "*can you find evidence on falls prevention?*).",
    platform_name="web chat",
    nameless_person="a web chat visitor",
    listen_where="Listening mode is for Slack and Teams channels, where I can offer help with "
    "questions nobody asked me. Here, just type your question and I'll answer it.",
)
_TERMINAL: Final = Wording(
    reply_here="Please type your answer here.",
    how_to_ask="Type a question, or ask for an evidence search (for example: "
    "*can you find evidence on falls prevention?*).",
    platform_name="terminal chat",
    nameless_person="a terminal chat user",
    listen_where="Listening mode is switched on or off per channel, not in a direct chat. Go to "
    "the channel (/in CHANNEL) and say **listen on** (or **listen off**, **listen status**).",
)
_BY_PLATFORM: Final = {"slack": _SLACK, "teams": _TEAMS, "web": _WEB, "cli": _TERMINAL}


def wording(platform: str) -> Wording:
    """The words for `platform` ("slack", "teams", "web", "cli"; a `Platform` works too)."""
    return _BY_PLATFORM.get(str(platform), _WEB)


def person_label(name: str | None, platform: str) -> str:
    """A person as others see them: their name, never a platform id."""
    return name or wording(platform).nameless_person
