"""Posting and updating Slack messages for the outbox, with Slack's errors sorted into
"try again later" (rate limits, outages) and "never going to work" (a deleted channel).

Every post carries message metadata naming its outbox row ({"event_type":
"evidence_desk_outbox", "event_payload": {"outbox_id": N}}), so when an attempt's outcome is
unknown (the process died or the call timed out after Slack may have accepted it) the outbox
can look for the message in the conversation (conversations.history, or conversations.replies
in a thread, with include_all_metadata) before posting it again. That reads history with the
scopes the bot already has (channels:history, groups:history, im:history; im:write to open a
DM by user id).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.outbox import DeliveryError, Destination
from bot.messages import Reply
from bot.platforms.slack.render import blocks, fallback_text

log = logging.getLogger(__name__)

#: The metadata event type of the bot's own outbox posts.
OUTBOX_EVENT = "evidence_desk_outbox"
#: How far before a row was queued to start looking, for clock differences with Slack.
_LOOK_BACK_SECONDS = 300
#: Pages of 200 messages searched before giving up (and trying again later).
_MAX_PAGES = 10

#: Errors that no retry will fix.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "message_not_found",
        "cant_update_message",
        "user_not_found",
    }
)


class SlackMessenger:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, destination: Destination, reply: Reply) -> str:
        return await self._post(destination, reply, None)

    async def post_tagged(self, destination: Destination, reply: Reply, outbox_id: int) -> str:
        tag = {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": outbox_id}}
        return await self._post(destination, reply, tag)

    async def _post(
        self, destination: Destination, reply: Reply, metadata: dict[str, Any] | None
    ) -> str:
        if destination.visible_to:
            return await self._post_ephemeral(destination, reply)
        try:
            response = await self.client.chat_postMessage(
                channel=destination.channel_id,
                thread_ts=_thread(destination),
                text=fallback_text(reply),
                blocks=blocks(reply),
                unfurl_links=False,
                metadata=metadata,
            )
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _unreachable(exc) from exc
        # A DM posted to a user id lands in a D... channel: updates need that channel.
        return f"{response['channel']}:{response['ts']}"

    async def _post_ephemeral(self, destination: Destination, reply: Reply) -> str:
        """A message only `visible_to` sees (Slack keeps it for their session only)."""
        try:
            response = await self.client.chat_postEphemeral(
                channel=destination.channel_id,
                user=str(destination.visible_to),
                thread_ts=_thread(destination),
                text=fallback_text(reply),
                blocks=blocks(reply),
            )
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _unreachable(exc) from exc
        return f"{destination.channel_id}:{response.get('message_ts', '')}"

    async def find_tagged(
        self, destination: Destination, outbox_id: int, since: datetime
    ) -> str | None:
        """The "channel:ts" of our post tagged with `outbox_id`, or None if it is not there.

        An ephemeral post cannot be looked up (Slack does not keep it in history), so one
        whose first attempt has an unknown outcome is posted again: at worst its person sees
        a private note twice, which is better than not at all."""
        if destination.visible_to:
            return None
        try:
            channel = destination.channel_id
            if channel[:1] in ("U", "W"):  # a DM addressed by user id: history needs the D id
                opened = await self.client.conversations_open(users=channel)
                channel = str((opened.get("channel") or {}).get("id") or channel)
            thread = _thread(destination)
            oldest = f"{since.timestamp() - _LOOK_BACK_SECONDS:.6f}"
            cursor: str | None = None
            for _ in range(_MAX_PAGES):
                if thread:
                    page = await self.client.conversations_replies(
                        channel=channel, ts=thread, oldest=oldest, cursor=cursor, limit=200,
                        include_all_metadata=True,
                    )  # fmt: skip
                else:
                    page = await self.client.conversations_history(
                        channel=channel, oldest=oldest, cursor=cursor, limit=200,
                        include_all_metadata=True,
                    )  # fmt: skip
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == OUTBOX_EVENT and str(
                        payload.get("outbox_id")
                    ) == str(outbox_id):
                        return f"{channel}:{message['ts']}"
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if cursor is None:
                    return None
        except SlackApiError as exc:
            error = _delivery_error(exc)
            if error.retry_after is not None or error.uncertain:
                raise DeliveryError(f"checking for an earlier post: {error}", uncertain=True,
                                    retry_after=error.retry_after) from exc  # fmt: skip
            # The conversation cannot be read (a scope, a closed thread): it is better to risk
            # a second copy than to drop the message.
            log.warning("cannot check whether outbox message %s was posted: %s", outbox_id, error)
            return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(
                f"Slack unreachable: {exc.__class__.__name__}", uncertain=True
            ) from exc
        raise DeliveryError("too many messages to search for an earlier post", uncertain=True)

    async def update(self, destination: Destination, message_id: str, reply: Reply) -> None:
        channel, _, ts = message_id.partition(":")
        try:
            await self.client.chat_update(
                channel=channel, ts=ts, text=fallback_text(reply), blocks=blocks(reply)
            )
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _unreachable(exc) from exc


def _thread(destination: Destination) -> str | None:
    # A thread under one of our own posts arrives as that post's id, "channel:ts".
    return destination.thread_id.rpartition(":")[2] if destination.thread_id else None


def _unreachable(exc: BaseException) -> DeliveryError:
    """No connection means nothing was sent; any later failure may have been after Slack
    accepted the message."""
    sent_nothing = isinstance(exc, aiohttp.ClientConnectorError)
    return DeliveryError(f"Slack unreachable: {exc.__class__.__name__}", uncertain=not sent_nothing)


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(response.get("error", "")) if response is not None else ""
    status = response.status_code if response is not None else 0
    if status == 429:
        raw = (response.headers or {}).get("Retry-After") or (response.headers or {}).get(
            "retry-after"
        )
        try:
            retry_after = float(raw) if raw is not None else 30.0
        except (TypeError, ValueError):
            retry_after = 30.0
        return DeliveryError("rate limited by Slack", retry_after=retry_after)
    return DeliveryError(
        f"Slack error {status} {error}".strip(),
        permanent=error in PERMANENT,
        uncertain=status >= 500,
    )
