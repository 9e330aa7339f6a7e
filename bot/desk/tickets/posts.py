"""The messages the bot posted about a ticket, found again by their tracking key.

A message that must be found later is sent through the outbox with a key (`card_key`); once
it is out, `posted_messages` records where it landed (the platform's message id). Two kinds
of message are tracked per ticket:

- the messages that carry the ticket's buttons ("ticket:REF:card", and one per escalation,
  "ticket:REF:card:esc:KIND:PLATFORM:CHANNEL"), so that every one of them is re-rendered when
  the ticket changes and no stale Claim button stays live;
- the specialist's questions to the requester ("ticket:REF:asked:N"), so that a reply in the
  conversation the question actually landed in (the thread under it; the direct message
  Slack opened for a user id) is recognised as the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select

from bot.db.models import OutboxMessage, PostedMessage
from bot.db.session import Database

_PREFIX = "ticket:"
_CARD = ":card"
_ESCALATION = ":card:esc:"
_ASKED = ":asked:"


def card_key(reference: str) -> str:
    """The specialists' card of a ticket."""
    return f"{_PREFIX}{reference}{_CARD}"


def escalation_key(reference: str, kind: str, platform: str, channel_id: str) -> str:
    """An escalation message about a ticket, one per kind and place it was sent."""
    return f"{_PREFIX}{reference}{_ESCALATION}{kind}:{platform}:{channel_id}"


def asked_key(reference: str) -> str:
    """A specialist's question to the requester (each one its own message)."""
    return f"{_PREFIX}{reference}{_ASKED}{uuid.uuid4().hex}"


@dataclass(frozen=True)
class EscalationPost:
    key: str
    kind: str
    platform: str
    channel_id: str


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def escalation_posts(db: Database, reference: str) -> list[EscalationPost]:
    """Every escalation message about the ticket, posted or still queued (a change made
    before the escalation went out must reach it too)."""
    pattern = _escape(f"{_PREFIX}{reference}{_ESCALATION}") + "%"
    async with db.read() as session:
        posted = await session.scalars(
            select(PostedMessage.card_key).where(PostedMessage.card_key.like(pattern, escape="\\"))
        )
        queued = await session.scalars(
            select(OutboxMessage.card_key).where(
                OutboxMessage.status == "pending",
                OutboxMessage.card_key.like(pattern, escape="\\"),
            )
        )
        keys = sorted({*posted, *(k for k in queued if k)})
    found = []
    for key in keys:
        kind, _, where = key.split(_ESCALATION, 1)[1].partition(":")
        platform, _, channel = where.partition(":")
        found.append(EscalationPost(key, kind, platform, channel))
    return found


async def references_asked_in(
    db: Database, platform: str, conversation_id: str, thread_id: str | None, direct: bool
) -> list[str]:
    """The tickets whose question to the requester landed where this message was written:
    the thread under the question, or (in a direct conversation) anywhere in it. Newest
    first."""
    places = []
    if thread_id:
        # Slack's message ids are "channel:ts" and a thread is named by its first ts.
        places += [
            PostedMessage.message_id == f"{conversation_id}:{thread_id}",
            PostedMessage.message_id == thread_id,
        ]
    if direct:
        places.append(PostedMessage.message_id.like(_escape(f"{conversation_id}:") + "%", "\\"))
    if not places:
        return []
    async with db.read() as session:
        keys = await session.scalars(
            select(PostedMessage.card_key)
            .where(
                PostedMessage.platform == platform,
                PostedMessage.card_key.like(_escape(_PREFIX) + "%" + _escape(_ASKED) + "%", "\\"),
                or_(*places),
            )
            .order_by(PostedMessage.id.desc())
        )
        return [key.removeprefix(_PREFIX).split(_ASKED, 1)[0] for key in keys]


async def card_in_thread(
    db: Database, platform: str, conversation_id: str, thread_id: str | None
) -> str | None:
    """The reference of the ticket whose card heads this thread, if one does."""
    if not thread_id:
        return None
    async with db.read() as session:
        key = await session.scalar(
            select(PostedMessage.card_key)
            .where(
                PostedMessage.platform == platform,
                or_(
                    PostedMessage.message_id == f"{conversation_id}:{thread_id}",
                    PostedMessage.message_id == thread_id,
                ),
                PostedMessage.card_key.like(_escape(_PREFIX) + "%" + _escape(_CARD), "\\"),
            )
            .limit(1)
        )
    return None if key is None else key.removeprefix(_PREFIX).removesuffix(_CARD)
