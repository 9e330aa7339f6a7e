"""Where the bot can reach people in Teams, and which activities it has already handled.

Both live in the database, never in process memory, so proactive messages (a specialist's
question, "your evidence is ready") still work after a restart or on another worker:

* `conversation_refs`: the Bot Framework conversation reference of every conversation the bot
  has seen, per user, as Teams' own JSON. Bot Framework can only message a conversation it
  has a reference (service URL, conversation id, tenant) for.
* `processed_events`: the Teams activities already handled, so a redelivered activity acts
  once.

Teams identifiers used here: a channel's conversation id is `19:...@thread.tacv2`, and a
message in a reply chain arrives with `;messageid=<root>` after it. The bot keeps those two
apart (`split_thread`): the conversation id names the channel (as routes and queues do) and
the thread id names the reply chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.db.models import EXTERNAL_ID_LEN, ConversationRef, ProcessedEvent
from bot.db.session import Database
from bot.tickets.clock import utc_now

PLATFORM: Final = "teams"
THREAD_MARKER: Final = ";messageid="


def split_thread(conversation_id: str) -> tuple[str, str | None]:
    """`19:abc@thread.tacv2;messageid=17000` -> (`19:abc@thread.tacv2`, `17000`)."""
    base, marker, thread = conversation_id.partition(THREAD_MARKER)
    return (base, thread or None) if marker else (conversation_id, None)


def join_thread(conversation_id: str, thread_id: str | None) -> str:
    base, _ = split_thread(conversation_id)
    return f"{base}{THREAD_MARKER}{thread_id}" if thread_id else base


def event_key(conversation_id: str, activity_id: str) -> str:
    """A Teams activity id is unique within its conversation only (channel message ids are
    timestamps), so the key names both; hashed when too long for the column."""
    key = f"{split_thread(conversation_id)[0]}|{activity_id}"
    if len(key) <= EXTERNAL_ID_LEN:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _conversation_type(reference: Mapping[str, Any] | None) -> str | None:
    conversation = (reference or {}).get("conversation")
    if isinstance(conversation, Mapping):
        kind = conversation.get("conversationType")
        return str(kind) if kind else None
    return None


def _without_user_name(reference: dict[str, Any]) -> dict[str, Any]:
    """The reference without the person's display name: proactive messages need only ids, and
    a display name is personal data (and can be anything, an NHS number included)."""
    user = reference.get("user")
    if not isinstance(user, dict) or "name" not in user:
        return reference
    return {**reference, "user": {k: v for k, v in user.items() if k != "name"}}


class ConversationStore:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def remember(
        self,
        user_id: str,
        conversation_id: str,
        thread_id: str | None,
        service_url: str | None,
        reference: dict[str, Any],
    ) -> None:
        """Insert or refresh this user's reference for this conversation."""
        for attempt in (1, 2):
            try:
                async with self._db.transaction() as session:
                    row = await session.scalar(
                        select(ConversationRef).where(
                            ConversationRef.platform == PLATFORM,
                            ConversationRef.user_id == user_id,
                            ConversationRef.conversation_id == conversation_id,
                        )
                    )
                    if row is None:
                        row = ConversationRef(
                            platform=PLATFORM, user_id=user_id, conversation_id=conversation_id
                        )
                        session.add(row)
                    row.thread_id = thread_id
                    row.service_url = service_url
                    row.reference = _without_user_name(reference)
                    row.updated_at = self._clock()
                return
            except IntegrityError:
                # Two first activities of one user in one conversation raced; the other
                # inserted, so the second attempt updates its row.
                if attempt == 2:
                    raise

    async def first_time(self, event_id: str) -> bool:
        """Record an activity as handled; False if it already was (a redelivery)."""
        try:
            async with self._db.transaction() as session:
                session.add(
                    ProcessedEvent(platform=PLATFORM, event_id=event_id, received_at=self._clock())
                )
        except IntegrityError:
            return False
        return True

    async def reference_for(self, conversation_id: str) -> dict[str, Any] | None:
        """The newest stored reference in this conversation (any user, any thread)."""
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(ConversationRef)
                .where(
                    ConversationRef.platform == PLATFORM,
                    ConversationRef.conversation_id == split_thread(conversation_id)[0],
                )
                .order_by(ConversationRef.updated_at.desc(), ConversationRef.id.desc())
                .limit(1)
            )
        return dict(row.reference) if row is not None and row.reference else None

    async def personal_reference_for(self, user_id: str) -> dict[str, Any] | None:
        """The newest reference of this user's one-to-one chat with the bot. `user_id` is the
        id the bot stores (the Entra object id), or else the Bot Framework id (`29:...`)."""
        by_stored_id = ConversationRef.user_id == user_id
        by_bot_framework_id = ConversationRef.reference["user"]["id"].as_string() == user_id
        for condition in (by_stored_id, by_bot_framework_id):
            async with self._db.transaction() as session:
                rows = (
                    await session.scalars(
                        select(ConversationRef)
                        .where(ConversationRef.platform == PLATFORM, condition)
                        .order_by(ConversationRef.updated_at.desc(), ConversationRef.id.desc())
                    )
                ).all()
            for row in rows:
                if row.reference and _conversation_type(row.reference) == "personal":
                    return dict(row.reference)
        return None
