"""Posting and updating Slack messages for the outbox, with Slack's errors sorted into
"try again later" (rate limits, outages) and "never going to work" (a deleted channel)."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Reply
from bot.outbox import DeliveryError, Destination
from bot.slack.render import blocks, fallback_text

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
        try:
            # A thread under one of our own posts arrives as that post's id, "channel:ts".
            thread = destination.thread_id.rpartition(":")[2] if destination.thread_id else None
            response = await self.client.chat_postMessage(
                channel=destination.channel_id,
                thread_ts=thread,
                text=fallback_text(reply),
                blocks=blocks(reply),
                unfurl_links=False,
            )
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"Slack unreachable: {exc.__class__.__name__}") from exc
        # A DM posted to a user id lands in a D... channel: updates need that channel.
        return f"{response['channel']}:{response['ts']}"

    async def update(self, destination: Destination, message_id: str, reply: Reply) -> None:
        channel, _, ts = message_id.partition(":")
        try:
            await self.client.chat_update(
                channel=channel, ts=ts, text=fallback_text(reply), blocks=blocks(reply)
            )
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"Slack unreachable: {exc.__class__.__name__}") from exc


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
    return DeliveryError(f"Slack error {status} {error}".strip(), permanent=error in PERMANENT)
