"""Proactive Teams messages for the outbox: post and update cards through the Bot Framework.

Bot Framework can only write to a conversation it holds a reference for (service URL,
conversation, tenant), so every post starts from a reference stored in `conversation_refs`:

* a Destination's `channel_id` is a Teams conversation id (a channel, a group chat or a
  personal chat); with a `thread_id` the message goes into that channel reply chain;
* or it is a person's user id (a specialist's Teams identity): then their one-to-one chat
  with the bot is used.

Connector failures become `DeliveryError`s the outbox understands: 429 carries Retry-After,
5xx and network errors are retried, 403/404 (bot removed, conversation gone) and other 4xx are
permanent. The SDK's own HTTP retries are switched off for these sends: the outbox, which
stores the message, is the one place that retries.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

from botbuilder.core import BotAdapter, TurnContext  # type: ignore[import-untyped]
from botbuilder.schema import ConversationReference  # type: ignore[import-untyped]
from msrest.exceptions import ClientRequestError, HttpOperationError
from urllib3.util.retry import Retry

from bot.delivery.conversation_refs import ConversationStore
from bot.delivery.outbox import DeliveryError, Destination
from bot.messages import Reply
from bot.platforms.teams.activities import reply_activity
from bot.platforms.teams.conversations import join_thread, split_thread

log = logging.getLogger(__name__)

MAX_RETRY_AFTER: Final = 86_400.0  # a day: a larger (or absurd) Retry-After is not believed


class TeamsMessenger:
    def __init__(self, adapter: Any, app_id: str, conversations: ConversationStore) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._conversations = conversations

    async def post(self, destination: Destination, reply: Reply) -> str:
        reference, reply = await self._private_or_shared(destination, reply)
        activity = reply_activity(reply)

        async def send(turn_context: TurnContext) -> Any:
            return await turn_context.send_activity(activity)

        sent = await self._run(reference, send)
        message_id = str(getattr(sent, "id", None) or "")
        if not message_id:
            log.warning("Teams accepted a message to %s but returned no id", destination.channel_id)
        return message_id

    async def update(self, destination: Destination, message_id: str, reply: Reply) -> None:
        reference = await self._reference(destination)
        activity = reply_activity(reply)
        activity.id = message_id

        async def send(turn_context: TurnContext) -> Any:
            return await turn_context.update_activity(activity)

        await self._run(reference, send)

    async def _private_or_shared(self, destination: Destination, reply: Reply) -> tuple[Any, Reply]:
        """Teams has no message only one person in a channel or group chat can see: one meant
        for one person (`visible_to`) goes to their one-to-one chat with the bot. If they have
        never chatted with the bot there is no way to reach them privately, and it goes to the
        conversation, saying who it is for, rather than not at all."""
        if destination.visible_to:
            stored = await self._conversations.reference_for(
                split_thread(destination.channel_id)[0]
            )
            if stored is not None and _conversation_kind(stored) in ("personal", ""):
                return ConversationReference().deserialize(stored), reply
            personal = await self._conversations.personal_reference_for(destination.visible_to)
            if personal is not None:
                return ConversationReference().deserialize(personal), reply
            reply = replace(
                reply,
                text=f"{reply.text}\n\n(For the person who just wrote: Teams cannot show this "
                "to you alone here. Chat with me directly for private answers.)",
            )
        return await self._reference(destination), reply

    async def _reference(self, destination: Destination) -> Any:
        stored = await self._conversations.reference_for(split_thread(destination.channel_id)[0])
        conversation_id: str | None = None
        if stored is not None:
            thread_id = destination.thread_id or split_thread(destination.channel_id)[1]
            conversation_id = join_thread(destination.channel_id, thread_id)
        else:
            stored = await self._conversations.personal_reference_for(destination.channel_id)
        if stored is None:
            raise DeliveryError(
                f"no Teams conversation reference for {destination.channel_id!r}: the bot can "
                "only write to a chat, channel or person it has already heard from (add the app "
                "there, or ask the person to message the bot once)",
                permanent=True,
            )
        reference = ConversationReference().deserialize(stored)
        if conversation_id is not None and reference.conversation is not None:
            reference.conversation.id = conversation_id
        return reference

    async def _run(self, reference: Any, send: Callable[[TurnContext], Awaitable[Any]]) -> Any:
        """Run `send` in a proactive turn; its failure is raised here (the adapter's turn
        error handler would otherwise swallow it), mapped to a DeliveryError."""
        outcome: dict[str, Any] = {}

        async def callback(turn_context: TurnContext) -> None:
            try:
                _without_sdk_retries(turn_context)
                # A proactive message answers nothing. Without this, the SDK would send it as
                # a reply to the made-up id of its own continuation event; with it, it goes to
                # the conversation, where the conversation id alone says channel or reply chain.
                turn_context.activity.id = None
                outcome["result"] = await send(turn_context)
            except Exception as exc:
                outcome["error"] = exc

        try:
            await self._adapter.continue_conversation(reference, callback, self._app_id)
        except Exception as exc:
            raise delivery_error(exc) from exc
        if "error" in outcome:
            error: Exception = outcome["error"]
            raise delivery_error(error) from error
        return outcome.get("result")


_NO_RETRIES: Final = Retry(
    total=0, status_forcelist=None, respect_retry_after_header=False, raise_on_status=False
)


def _no_retries(session: Any, config: Any, kwargs: Any, **requests_kwargs: Any) -> Any:
    """msrest's per-request session hook: the session's HTTP adapters retry nothing."""
    for adapter in session.adapters.values():
        adapter.max_retries = _NO_RETRIES
    return requests_kwargs


def _without_sdk_retries(turn_context: TurnContext) -> None:
    """msrest (via urllib3) retries 5xx and 429 inside the send, sleeping in a worker thread,
    and then reports a RetryError without the status. The outbox already retries with backoff
    and honours Retry-After, so this turn's connector client must not. Its requests session
    is created with the client, so the hook msrest runs before every request is the one place
    to turn retries off."""
    client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    config = getattr(client, "config", None)
    if config is not None:
        config.session_configuration_callback = _no_retries


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def delivery_error(exc: Exception) -> Exception:
    """What the outbox should do about a failed send: a DeliveryError, or the exception itself
    when it is not a delivery problem (a bug: the outbox logs it and retries)."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, HttpOperationError):
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        headers = getattr(response, "headers", None) or {}
        reason = f"Bot Framework connector answered HTTP {status}"
        if status == 429:
            return DeliveryError(
                f"{reason} (rate limited)",
                retry_after=retry_after_seconds(headers.get("Retry-After")),
            )
        if status >= 500 or status in (408, 0):
            return DeliveryError(
                reason, retry_after=retry_after_seconds(headers.get("Retry-After"))
            )
        if status in (403, 404):
            return DeliveryError(
                f"{reason}: the bot was removed from that conversation, or it no longer exists",
                permanent=True,
            )
        if status == 401:
            # The bot's own credentials were refused: fixable by configuration, so keep the
            # message (the outbox gives up after its last attempt).
            return DeliveryError(f"{reason}: check MicrosoftAppId and MicrosoftAppPassword")
        # Any other 4xx: the message itself was refused, and sending it again will not help.
        return DeliveryError(reason, permanent=400 <= status < 500)
    if isinstance(exc, ClientRequestError | OSError | TimeoutError):
        return DeliveryError(
            f"could not reach the Bot Framework connector: {exc.__class__.__name__}"
        )
    return exc


def _conversation_kind(reference: dict[str, Any]) -> str | None:
    conversation = reference.get("conversation")
    return (
        str(conversation.get("conversationType") or "") if isinstance(conversation, dict) else None
    )
