"""Where Slack's events, commands, shortcuts, button clicks and modal submissions go.

Each listener acknowledges first (Slack gives 3 seconds), opens a modal straight away when one
is wanted (a `trigger_id` lives 3 seconds too), translates the payload into a neutral message
or action, hands it to the core (`EvidenceDesk`), and renders what comes back. No rule about
what the bot says or how a ticket moves lives here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.inbox import InboundEvent, Inbox
from bot.delivery.outbox import Destination
from bot.messages import IncomingMessage, Intent, Outcome, Platform, Reply, UserAction
from bot.platforms.slack.render import (
    action_name,
    blocks,
    fallback_text,
    field_errors,
    modal,
    submitted_values,
)
from handlers.actions import OPEN_REQUEST
from handlers.desk import EvidenceDesk
from handlers.listening import listen_word
from knowledge.markup import clean_markup

log = logging.getLogger(__name__)

SEND_TO_SPECIALIST = "send_to_specialist"
NEW_REQUEST = "new_evidence_request"
_IGNORED_SUBTYPES = frozenset(
    {"message_changed", "message_deleted", "bot_message", "channel_join", "channel_leave",
     "channel_topic", "channel_purpose", "channel_name", "thread_broadcast", "me_message"}
)  # fmt: skip


class SlackListeners:
    def __init__(self, desk: EvidenceDesk, inbox: Inbox) -> None:
        self.desk = desk
        self.inbox = inbox

    def register(self, bolt: AsyncApp) -> None:
        bolt.middleware(_Journalling(self))
        bolt.event("app_mention")(self.on_event)
        bolt.event("message")(self.on_event)
        bolt.event("app_home_opened")(self.on_home_opened)
        bolt.command("/evidence")(self.on_command)
        bolt.shortcut(SEND_TO_SPECIALIST)(self.on_message_shortcut)
        bolt.shortcut(NEW_REQUEST)(self.on_global_shortcut)
        bolt.action(re.compile(r".+"))(self.on_button)
        bolt.view_submission(re.compile(r".+"))(self.on_submission)

    # ---- events: journalled before the acknowledgement, answered after it ----------------

    async def journal(
        self, body: dict[str, Any], context: dict[str, Any], next: Callable[[], Awaitable[object]]
    ) -> BoltResponse | None:
        """Translate an event and hand it to the core inbox before Bolt acknowledges it (the
        same over HTTP and Socket Mode). A retried event id is acknowledged and skipped."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        event = body.get("event") if isinstance(body, dict) else None
        if not event_id or not isinstance(event, dict):
            await next()
            return None
        inbound = translate_event(str(event_id), event, context.get("bot_user_id"))
        if inbound is None:
            await next()  # nothing to answer (an edit, a bot's post, App Home)
            return None
        journal_id = await self.inbox.accept(inbound)
        if journal_id is None:
            log.info("duplicate Slack event %s acknowledged and skipped", event_id)
            return BoltResponse(status=200, body="")
        context["inbound"] = (journal_id, inbound)
        await next()
        return None

    async def on_event(self, context: dict[str, Any]) -> None:
        """A mention, a DM or an overheard channel message, once acknowledged."""
        inbound = context.get("inbound")
        if inbound is not None:
            await self.inbox.answer(*inbound)

    # ---- commands and shortcuts -----------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        text = str(command.get("text", "")).strip()
        user, channel = str(command.get("user_id", "")), str(command.get("channel_id", ""))
        trigger = str(command.get("trigger_id", ""))
        lowered = text.lower()
        if lowered == "request" or lowered.startswith("request "):
            await self._open_request(
                client, trigger, user, channel, None, text[len("request") :].strip()
            )
            return
        direct = command.get("channel_name") == "directmessage" or channel.startswith("D")
        reply = await self.desk.on_message(
            IncomingMessage(Platform.SLACK, user, text or "help", conversation_id=channel,
                            is_direct=direct)
        )  # fmt: skip
        if reply.intent is Intent.SEARCH_REQUEST and reply.prefill is not None:
            await self._open_request(client, trigger, user, channel, None, reply.prefill.topic)
            return
        # A slash command is seen by its sender only, so its answer is private too; but when
        # it switched listening mode, the channel is told (the core decides what "listen" means).
        shared = listen_word(text) is not None and not reply.ephemeral
        await respond(text=fallback_text(reply), blocks=blocks(reply),
                      response_type="in_channel" if shared else "ephemeral")  # fmt: skip

    async def _open_request(
        self,
        client: AsyncWebClient,
        trigger: str,
        user: str,
        channel: str,
        thread: str | None,
        topic: str,
    ) -> None:
        outcome = await self.desk.on_action(
            UserAction(Platform.SLACK, user, OPEN_REQUEST, value=clean_markup(topic),
                       channel_id=channel, thread_id=thread)
        )  # fmt: skip
        if outcome.form is not None:
            await client.views_open(trigger_id=trigger, view=modal(outcome.form))

    async def on_message_shortcut(
        self, ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        message = shortcut.get("message") or {}
        channel = str((shortcut.get("channel") or {}).get("id", ""))
        thread = str(message.get("thread_ts") or message.get("ts") or "") or None
        await self._open_request(
            client, str(shortcut.get("trigger_id", "")), str((shortcut.get("user") or {}).get("id", "")),
            channel, thread, str(message.get("text", "")),
        )  # fmt: skip

    async def on_global_shortcut(
        self, ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = str((shortcut.get("user") or {}).get("id", ""))
        # No channel: the reference and the replies come to the person's DM with the bot.
        await self._open_request(client, str(shortcut.get("trigger_id", "")), user, user, None, "")

    # ---- buttons and modals -----------------------------------------------------------------

    async def on_button(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        user = str((body.get("user") or {}).get("id", ""))
        message = body.get("message") or {}
        channel = str(
            (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id")
            or ""
        )
        thread = str(message.get("thread_ts") or message.get("ts") or "") or None
        here = Destination("slack", channel or user, thread)
        outcome = await self.inbox.act(
            UserAction(Platform.SLACK, user, action_name(str(action.get("action_id", ""))),
                       value=str(action.get("value", "")), user_name=(body.get("user") or {}).get("name"),
                       channel_id=channel, thread_id=thread),
            here,
        )  # fmt: skip
        if outcome.form is not None:
            await client.views_open(
                trigger_id=str(body.get("trigger_id", "")), view=modal(outcome.form)
            )
        elif outcome.reply is not None:  # for the person who pressed it only
            if body.get("response_url"):
                await respond(text=fallback_text(outcome.reply), blocks=blocks(outcome.reply),
                              response_type="ephemeral", replace_original=False)  # fmt: skip
            else:
                await self.inbox.tell(outcome.reply, here, user)

    async def on_submission(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = body.get("user") or {}
        values = submitted_values((view.get("state") or {}).get("values") or {})
        fingerprint = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
        outcome: Outcome = await self.inbox.act(
            UserAction(Platform.SLACK, str(user.get("id", "")), str(view.get("callback_id", "")),
                       user_name=user.get("name"), values=tuple(values.items()),
                       form_state=str(view.get("private_metadata", "")),
                       event_id=f"slack-view:{view.get('id', '')}:{fingerprint}"),
            None,  # the core says where a confirmation goes (the thread the form came from)
        )  # fmt: skip
        if outcome.form is not None:
            current = {b.get("block_id") for b in view.get("blocks") or []}
            if all(f.name in current for f in outcome.form.fields) and outcome.form.errors:
                await ack(response_action="errors", errors=field_errors(outcome.form))
            else:
                await ack(response_action="update", view=modal(outcome.form))
            return
        reply = outcome.reply
        if reply is not None and reply.ephemeral and reply.intent is Intent.UNKNOWN:
            # A refusal ("only specialists can ...") replaces the modal, so it is seen.
            await ack(response_action="update", view=_message_view(reply))
            return
        await ack()

    # ---- App Home ---------------------------------------------------------------------------

    async def on_home_opened(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        await self._home(event, client)

    async def _home(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user = str(event.get("user", ""))
        sections = await self.desk.home(Platform.SLACK, user)
        home_blocks: list[dict[str, Any]] = []
        for section in sections:
            if home_blocks:
                home_blocks.append({"type": "divider"})
            home_blocks.extend(blocks(section))
        await client.views_publish(user_id=user, view={"type": "home", "blocks": home_blocks[:100]})


class _Journalling(AsyncMiddleware):
    """`SlackListeners.journal` as a Bolt middleware object. A plain function would be wrapped
    in one that works out which arguments it wants (Bolt's keyword injection) on every
    request, a tenth of what Bolt costs an event; this one is handed them directly."""

    def __init__(self, listeners: SlackListeners) -> None:
        self._listeners = listeners

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        refusal = await self._listeners.journal(req.body, req.context, next)
        return refusal if refusal is not None else resp

    @property
    def name(self) -> str:
        return "EvidenceDeskJournal"


def _message_view(reply: Reply) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Evidence Desk"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks(reply),
    }


def translate_event(
    event_id: str, event: dict[str, Any], bot_user_id: str | None
) -> InboundEvent | None:
    """A Slack event as the core's neutral event; None when there is nothing to answer (an
    edit, a bot's post, App Home, a channel message that mentions the bot, which arrives
    again as its own `app_mention`)."""
    kind = event.get("type")
    user, channel = str(event.get("user") or ""), str(event.get("channel") or "")
    if kind not in ("app_mention", "message") or not user or not channel:
        return None
    if kind == "message" and (event.get("subtype") in _IGNORED_SUBTYPES or event.get("bot_id")):
        return None
    text, ts = str(event.get("text", "")), event.get("ts")
    thread = event.get("thread_ts")
    if kind == "app_mention":
        where = str(thread or ts or "")
        message = IncomingMessage(Platform.SLACK, user, text, conversation_id=channel,
                                  thread_id=where, message_id=ts)  # fmt: skip
        return InboundEvent("slack", event_id, Destination("slack", channel, where), message)
    if event.get("channel_type") == "im":
        message = IncomingMessage(Platform.SLACK, user, text, conversation_id=channel,
                                  thread_id=thread, message_id=ts, is_direct=True)  # fmt: skip
        return InboundEvent("slack", event_id, Destination("slack", channel, thread), message)
    if bot_user_id and f"<@{bot_user_id}" in text:
        return None  # app_mention answers it
    message = IncomingMessage(Platform.SLACK, user, text, conversation_id=channel,
                              thread_id=thread, message_id=ts)  # fmt: skip
    answer_in = str(thread or ts or "") or None
    return InboundEvent(
        "slack", event_id, Destination("slack", channel, answer_in), message, overheard=True
    )
