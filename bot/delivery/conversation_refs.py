"""Where the bot can reach people: each conversation's platform reference, in the database.

The Bot Framework can only write to a conversation it holds a reference for (service URL,
conversation id, tenant), so the reference of every conversation the bot has heard from is
stored, per user, as the platform's own JSON: proactive messages (a specialist's question,
"your evidence is ready") then work after a restart or from another replica. The store knows
nothing of the reference's meaning beyond "which one is a person's one-to-one chat".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.clock import utc_now
from bot.db.models import ConversationRef
from bot.db.session import Database
from bot.delivery.group_commit import GroupedWrites


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


def _upsert(dialect: Any) -> Any:
    table = ConversationRef.__table__
    insert = dialect.insert(table)
    return insert.on_conflict_do_update(
        index_elements=["platform", "user_id", "conversation_id"],
        set_={
            name: insert.excluded[name]
            for name in ("thread_id", "service_url", "reference", "updated_at")
        },
    )


_UPSERTS: Final = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


class ConversationStore(GroupedWrites[None]):
    """Every Teams activity stores its conversation's reference before it is acknowledged (the
    answer, posted later from the outbox, needs it), so under a burst these writes are grouped
    like the journal's (`GroupedWrites`, bot/delivery/group_commit.py): the references that
    arrive while one write is in flight are upserted together by the next, in one transaction,
    instead of a transaction (and, on SQLite, a turn at the one writer) each."""

    def __init__(
        self, db: Database, platform: str = "teams", clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(db)
        self._platform = platform
        self._clock = clock

    async def remember(
        self,
        user_id: str,
        conversation_id: str,
        thread_id: str | None,
        service_url: str | None,
        reference: dict[str, Any],
    ) -> None:
        """Insert or refresh this user's reference for this conversation. Raises what the
        database raised."""
        await self._submit(
            {
                "platform": self._platform,
                "user_id": user_id,
                "conversation_id": conversation_id,
                "thread_id": thread_id,
                "service_url": service_url,
                "reference": _without_user_name(reference),
                "updated_at": self._clock(),
            }
        )

    async def _write(self, batch: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
        # The last reference of a (user, conversation) in the batch is the one kept, as if
        # they had been written one after the other.
        rows = {(values["user_id"], values["conversation_id"]): values for values in batch}
        async with self._db.transaction(urgent=True) as session:
            await session.execute(_UPSERTS[self._db.dialect], list(rows.values()))
        return lambda values: None

    async def reference_for(self, conversation_id: str) -> dict[str, Any] | None:
        """The newest stored reference in this conversation (any user, any thread). A read
        (every Teams post looks one up): on SQLite it does not queue for the writer's turn."""
        async with self._db.read() as session:
            row = await session.scalar(
                select(ConversationRef)
                .where(
                    ConversationRef.platform == self._platform,
                    ConversationRef.conversation_id == conversation_id,
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
            async with self._db.read() as session:
                rows = (
                    await session.scalars(
                        select(ConversationRef)
                        .where(ConversationRef.platform == self._platform, condition)
                        .order_by(ConversationRef.updated_at.desc(), ConversationRef.id.desc())
                    )
                ).all()
            for row in rows:
                if row.reference and _conversation_type(row.reference) == "personal":
                    return dict(row.reference)
        return None
