"""Listening mode: in channels that opted in, help with the questions nobody asked the bot.

People ask each other ("anyone know how to reset their Athens password?"), not the bot. In an
opted-in channel the bot answers such a message unasked, but only when it is confident (an FAQ
above a stricter threshold than when asked, or a search request asked for in words), at most
once a thread, within a per-channel hourly limit, and always with "Not now" and "Stop listening
here". It never opens a ticket on its own: a search request gets the offer of the form.

One exception: a message describing an emergency or a risk to life gets the urgent-care
signposting unasked, even as a thread reply and past the hourly limit (but once a thread), unless
it is a ward colleague's note about a patient already in the team's care ("bed 9 c/o chest
pain", "bed 4 says he wants to kill himself"), where the team is the response and a 999 line is
noise. Someone speaking of ending or harming their own life is always answered.

Switching it is part of the core, not of an adapter: "listen on", "listen off", "listen status"
(or just "listen") said to the bot in a channel, however the platform delivered it (a Slack
mention or `/evidence listen on`, "@Evidence Desk listen on" in Teams), so every platform
obeys the same words and writes the same audit trail.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.desk.listening_store import ListeningStore
from bot.messages import Button, IncomingMessage, Intent, Reply
from handlers.answers import Answerer
from handlers.intake import prefill_value
from handlers.replies import ACTION_OPEN_REQUEST
from knowledge.markup import clean_markup

LISTEN_NOT_NOW = "listen_not_now"
LISTEN_STOP = "listen_stop"
_QUESTION_LIKE = re.compile(
    r"\?|^\s*(?:does|do|is|are|can|could|would|how|what|where|when|who|which|why|any|anyone|"
    r"anybody|has|have|need|looking|know)\b",
    re.IGNORECASE,
)
# The whole message, so a question that merely starts with "listen" is still answered as one.
_LISTEN_WORDS = re.compile(r"listen(?:\s+(on|off|status))?\s*[.!]?", re.IGNORECASE)
_CONTROLS = (
    Button("Not now", LISTEN_NOT_NOW, ""),
    Button("Stop listening here", LISTEN_STOP, ""),
)


PER_CHANNEL = Reply(
    text=(
        "Listening mode is switched on or off per channel, not in a direct chat. In the channel, "
        "mention me with **listen on** (or **listen off**, **listen status**)."
    ),
    intent=Intent.SMALLTALK,
    ephemeral=True,
)


def listen_word(text: str) -> str | None:
    """The listen command's word ("on", "off" or "status"), or None for any other message.

    Chat markup (the bot's own mention, formatting) is ignored, so "<@U0BOT> listen on" and
    "<at>Evidence Desk</at> Listen on." are the same command; a bare "listen" asks the status.
    """
    match = _LISTEN_WORDS.fullmatch(clean_markup(text))
    if match is None:
        return None
    return (match.group(1) or "status").lower()


class Listener:
    def __init__(
        self, answerer: Answerer, store: ListeningStore, unasked_threshold: float, per_hour: int
    ) -> None:
        self.answerer = answerer
        self.store = store
        self.unasked_threshold = unasked_threshold
        self.per_hour = per_hour

    async def command(self, platform: str, channel_id: str, actor: str, word: str) -> Reply:
        """Switch listening or report it. `actor` ("<platform>:<user id>") goes in the audit
        trail, so a channel can always find out who let the bot in."""
        word = word.strip().lower()
        if word in {"on", "off"}:
            await self.store.set(platform, channel_id, word == "on", actor)
            text = (
                "Listening is on: I'll offer help unasked in this channel when I'm confident, "
                "at most once a thread. Say **listen off** to me (or press *Stop listening here*) to "
                "stop."
                if word == "on"
                else "Listening is off: I'll only answer when someone mentions me here."
            )
            return Reply(text=text, intent=Intent.SMALLTALK)
        enabled = await self.store.is_enabled(platform, channel_id)
        return Reply(
            text=f"Listening is {'on' if enabled else 'off'} in this channel.",
            intent=Intent.SMALLTALK,
            ephemeral=True,
        )

    def verdict(self, text: str) -> Reply | None:
        """The reply to speak unasked, or None to stay quiet (pure: no storage, for benchmarks)."""
        answer = self.answerer.answer(text)
        result, reply = answer.classification, answer.reply
        if reply.intent is Intent.URGENT:
            signs = self.answerer.urgent
            if signs.about_patient_in_care(text) and not signs.own_crisis(text):
                return None
            # No private warning here: signposting matters more than drawing eyes to a detail.
            return replace(reply, warning=None, buttons=_CONTROLS)
        if not _QUESTION_LIKE.search(text):
            return None
        if result is None:
            return None
        if reply.warning:
            # Patient details in a message nobody addressed to the bot: answering would draw
            # the channel's attention to them (Teams cannot warn privately), so stay quiet.
            return None
        if reply.intent is Intent.FAQ and result.score >= self.unasked_threshold:
            return replace(reply, text=reply.text, buttons=(*reply.buttons, *_CONTROLS))
        if reply.intent is Intent.SEARCH_REQUEST and not result.inferred and reply.prefill:
            return replace(
                reply,
                text=(
                    f"It sounds like you're looking for evidence on **{reply.prefill.topic}**. "
                    "A knowledge specialist can search for you: open the form to ask."
                ),
                buttons=(
                    Button(
                        "Open the request form",
                        ACTION_OPEN_REQUEST,
                        prefill_value(reply.prefill),
                        "primary",
                    ),
                    *_CONTROLS,
                ),
            )
        return None

    async def overheard(self, message: IncomingMessage) -> Reply | None:
        """Speak unasked in an opted-in channel, or stay quiet. Thread replies are answered only
        with urgent-care signposting: otherwise the bot joins a conversation once, at its start."""
        platform = str(message.platform)
        if not await self.store.is_enabled(platform, message.conversation_id):
            return None
        reply = self.verdict(message.text)
        if reply is None:
            return None
        urgent = reply.intent is Intent.URGENT
        in_thread = bool(message.thread_id and message.thread_id != message.message_id)
        if in_thread and not urgent:
            return None
        thread = (message.thread_id if in_thread else message.message_id) or message.thread_id or ""
        if urgent:
            # Past the hourly limit, and in its own slot so an earlier answer does not silence it.
            thread, per_hour = f"{thread}:urgent", 1_000_000
        else:
            per_hour = self.per_hour
        if not await self.store.claim_thread(platform, message.conversation_id, thread, per_hour):
            return None
        return reply
