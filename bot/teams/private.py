"""Telling one person something in a conversation others can read.

Teams cannot show a message or card to one member of a channel or group chat. What is for one
person (a privacy warning about what they sent) goes to their one-to-one chat with the bot,
through the outbox like any other proactive message (so a Teams outage delays it but loses
nothing), and only if they have one: the bot can only write to a person it has heard from.
"""

from __future__ import annotations

from bot.messages import Intent, Reply
from bot.outbox import Destination, Outbox
from bot.teams.conversations import PLATFORM, ConversationStore

__all__ = ["tell_privately"]


async def tell_privately(
    conversations: ConversationStore, outbox: Outbox, user_id: str, text: str
) -> bool:
    """Queue `text` for the person's own chat with the bot; False if they have none yet."""
    if not user_id or await conversations.personal_reference_for(user_id) is None:
        return False
    await outbox.enqueue(
        Destination(PLATFORM, user_id), Reply(text=text, intent=Intent.SMALLTALK, ephemeral=True)
    )
    return True
