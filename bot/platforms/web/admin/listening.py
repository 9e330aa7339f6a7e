"""Listening mode per channel (issue #8): the console's switch beside `/evidence listen` in
Slack and `listen on|off` in Teams, writing to the same store and the same audit trail.

A channel the console has never heard of is off; switching one on by hand takes a platform
and a channel id checked for its platform's shape, because a mistyped id would be stored,
shown as "on", and never match a real channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote, urlencode

from aiohttp import web

from bot.desk.accounts import Session
from bot.desk.listening_store import EXTERNAL_ID_LEN, LISTENING_PLATFORMS, ListeningStore
from bot.keys import DATABASE
from bot.platforms.web.admin.common import form_data, page, protected

#: Slack channel ids: C (public) or G (private), then upper-case letters and digits.
_SLACK_CHANNEL: Final = re.compile(r"^[CG][A-Z0-9]{6,20}$")
#: Teams channel (and group chat) conversation ids: `19:<id>@thread.tacv2` and its kin.
_TEAMS_CHANNEL: Final = re.compile(r"^19:[A-Za-z0-9_.=+-]{1,200}@thread\.(?:tacv2|skype|v2)$")
#: How Teams marks a reply chain after a channel id (bot/platforms/teams/conversations.py), repeated
#: here so the console does not import the Teams adapter.
_THREAD_MARKER: Final = ";messageid="
AUDIT_PER_CHANNEL: Final = 10


class ChannelProblem(ValueError):
    """A form field the admin must correct; `field` says which, so the message sits beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class ChannelForm:
    """What the admin typed, kept whole so a refused form comes back as they left it."""

    platform: str = ""
    channel: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def actor_for(session: Session) -> str:
    """The audit trail's name for a console change; cut to the column's length, since an
    email may be longer than a chat id."""
    return f"web:{session.admin.email}"[:EXTERNAL_ID_LEN]


def check_channel(platform: str, channel: str) -> str:
    """The channel id to store, or `ChannelProblem` saying what is wrong with it."""
    if platform not in LISTENING_PLATFORMS:
        raise ChannelProblem("platform", "Choose Slack or Teams: listening is for their channels.")
    channel = channel.strip()
    if not channel:
        raise ChannelProblem("channel", "Give the channel id.")
    if len(channel) > EXTERNAL_ID_LEN:
        raise ChannelProblem(
            "channel",
            f"That is {len(channel)} characters; a channel id has at most {EXTERNAL_ID_LEN}.",
        )
    if platform == "slack":
        if channel.upper().startswith("D"):
            raise ChannelProblem(
                "channel",
                f"“{channel}” is a direct message; listening is for channels (ids starting C or G).",
            )
        if not _SLACK_CHANNEL.match(channel.upper()):
            raise ChannelProblem(
                "channel",
                f"“{channel}” is not a Slack channel id: they start with C or G, then 6 to 20 "
                "letters and digits, e.g. C0123ABCD. In Slack: channel name, then the id at "
                "the bottom of About.",
            )
        return channel.upper()
    if "%" in channel:
        channel = unquote(channel)  # pasted from a "Get link to channel" address
    if _THREAD_MARKER in channel:
        raise ChannelProblem(
            "channel",
            f"That id names one thread; give the channel's, the part before “{_THREAD_MARKER}”.",
        )
    if not _TEAMS_CHANNEL.match(channel):
        raise ChannelProblem(
            "channel",
            f"“{channel}” is not a Teams channel id: they look like "
            "19:abc123…@thread.tacv2 (in Teams: the channel's ⋯ menu, Get link to channel).",
        )
    return channel


async def _listening_page(
    request: web.Request, session: Session, form: ChannelForm | None = None, status: int = 200
) -> web.Response:
    store = ListeningStore(request.app[DATABASE])
    channels = await store.channels()
    known = [k for k in await store.known_channels() if _is_valid(k.platform, k.channel_id)]
    done = request.query.get("done")
    return page(
        request,
        session,
        "admin/listening.html",
        status=status,
        channels=channels,
        audit=await store.recent_audit(AUDIT_PER_CHANNEL),
        known=known,
        audit_limit=AUDIT_PER_CHANNEL,
        platforms=LISTENING_PLATFORMS,
        form=form or ChannelForm(),
        done=done if done in {"on", "off"} else None,
        done_platform=request.query.get("platform", ""),
        done_channel=request.query.get("channel", ""),
    )


def _is_valid(platform: str, channel: str) -> bool:
    try:
        return check_channel(platform, channel) == channel
    except ChannelProblem:
        return False


async def listening(request: web.Request, session: Session) -> web.Response:
    return await _listening_page(request, session)


async def switch(request: web.Request, session: Session) -> web.Response:
    """Switch one channel on or off. A channel already in the table is taken as stored (chat
    wrote it, with whatever id the platform gave); a new one must pass `check_channel`."""
    data = await form_data(request)
    state = data.get("state", "")
    form = ChannelForm(data.get("platform", "")[:32], data.get("channel", "")[:1000])
    store = ListeningStore(request.app[DATABASE])
    if state not in {"on", "off"}:
        raise web.HTTPBadRequest(text="Switch listening “on” or “off”.")
    switched = {(c.platform, c.channel_id) for c in await store.channels()}
    try:
        channel = (
            form.channel
            if (form.platform, form.channel) in switched
            else check_channel(form.platform, form.channel)
        )
    except ChannelProblem as problem:
        form.errors[problem.field] = str(problem)
        return await _listening_page(request, session, form, 422)
    await store.set(form.platform, channel, state == "on", actor_for(session))
    query = urlencode({"done": state, "platform": form.platform, "channel": channel})
    raise web.HTTPSeeOther(f"/admin/listening?{query}")


def add_listening_routes(app: web.Application) -> None:
    app.router.add_get("/admin/listening", protected(listening))
    app.router.add_post("/admin/listening", protected(switch))
