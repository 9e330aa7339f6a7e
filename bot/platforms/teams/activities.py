"""Bot Framework message activities carrying our Adaptive Cards (shared by the bot and the
messenger), and where an incoming activity happened and who sent it."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import MessageFactory, TurnContext  # type: ignore[import-untyped]
from botbuilder.schema import Activity, Attachment  # type: ignore[import-untyped]

from bot.messages import Form, Reply
from bot.platforms.teams import cards
from bot.platforms.teams.conversations import split_thread

log = logging.getLogger(__name__)


def card_activity(card: cards.Card) -> Any:
    return MessageFactory.attachment(Attachment(content_type=cards.CONTENT_TYPE, content=card))


def reply_activity(reply: Reply) -> Any:
    return card_activity(cards.reply_card(reply))


def form_activity(form: Form) -> Any:
    return card_activity(cards.form_card(form))


def text_activity(text: str) -> Any:
    return MessageFactory.text(text)


def user_id_of(activity: Activity) -> str:
    """The person's stable id: their Entra (AAD) object id when Teams gives it, which is the
    same in every chat and team, else the Bot Framework user id."""
    sender = activity.from_property
    if sender is None:
        return ""
    return str(getattr(sender, "aad_object_id", None) or sender.id or "")


def location_of(activity: Activity) -> tuple[str, str | None]:
    """(conversation id, thread id): the channel or chat, and the reply chain in a channel."""
    conversation = activity.conversation
    if conversation is None or not conversation.id:
        return "", None
    return split_thread(str(conversation.id))


def is_personal(activity: Activity) -> bool:
    """A one-to-one chat with the bot. Teams always says which kind of conversation it is; the
    Bot Framework Emulator, which only does one-to-one, says nothing."""
    conversation = activity.conversation
    return conversation is not None and conversation.conversation_type in (None, "", "personal")


def is_channel(activity: Activity) -> bool:
    """A post in a team's channel, where (with resource-specific consent) the bot also hears
    messages that do not mention it."""
    conversation = activity.conversation
    return conversation is not None and conversation.conversation_type == "channel"


def mentions_recipient(activity: Activity) -> bool:
    """Whether the message @mentions the bot itself (not just anyone): only then is it
    addressed to the bot, since with ChannelMessage.Read.Group Teams delivers every channel
    message."""
    recipient = activity.recipient
    bot_id = recipient.id if recipient is not None else None
    if not bot_id:
        return False
    for entity in activity.entities or []:
        if str(getattr(entity, "type", "") or "").lower() != "mention":
            continue
        mentioned = (getattr(entity, "additional_properties", None) or {}).get("mentioned")
        if isinstance(mentioned, dict) and mentioned.get("id") == bot_id:
            return True
    return False


def is_from_a_bot(activity: Activity) -> bool:
    """Sent by the bot itself or by another bot: never acted on, so two bots can never answer
    each other in a loop and the bot never answers its own words."""
    sender, recipient = activity.from_property, activity.recipient
    if sender is None:
        return False
    if str(getattr(sender, "role", "") or "").lower() == "bot":
        return True
    return bool(sender.id) and recipient is not None and sender.id == recipient.id


def message_text(activity: Activity) -> str:
    """The message without the bot's mention ("<at>Evidence Desk</at> hours" -> "hours"); the
    raw text if the mention entity is malformed (the core removes leftover markup)."""
    if not activity.text:
        return ""
    original = str(activity.text)
    try:
        stripped = TurnContext.remove_recipient_mention(activity)
    except (AttributeError, KeyError, TypeError):
        log.debug("malformed mention entity in Teams activity %s", activity.id, exc_info=True)
        stripped = original
    return str(stripped or "").strip()
