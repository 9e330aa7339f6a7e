"""Teams conversation references stored under a burst: grouped into shared transactions, each
still stored, the newest of a conversation kept, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.db.models import ConversationRef
from bot.db.session import Database
from bot.delivery.conversation_refs import ConversationStore

SERVICE = "https://smba.trafficmanager.net/uk/"


def personal(conversation_id: str, activity_id: str = "1") -> dict[str, object]:
    return {
        "activityId": activity_id,
        "user": {"id": "29:user", "name": "Sam Nurse"},
        "conversation": {"id": conversation_id, "conversationType": "personal"},
    }


async def test_every_reference_of_a_burst_is_stored(database: Database) -> None:
    store = ConversationStore(database)
    await asyncio.gather(
        *(
            store.remember(f"aad-{n}", f"a:chat-{n}", None, SERVICE, personal(f"a:chat-{n}"))
            for n in range(40)
        )
    )
    for n in (0, 17, 39):
        assert await store.personal_reference_for(f"aad-{n}") is not None
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationRef)) == 40


async def test_the_last_reference_of_a_conversation_in_a_burst_is_the_one_kept(
    database: Database,
) -> None:
    store = ConversationStore(database)
    await asyncio.gather(
        *(
            store.remember("aad-1", "a:chat", None, SERVICE, personal("a:chat", str(n)))
            for n in range(10)
        )
    )
    stored = await store.reference_for("a:chat")
    assert stored is not None
    assert stored["activityId"] == "9"
    assert "name" not in stored["user"]


async def test_a_reference_stored_again_is_refreshed_not_duplicated(database: Database) -> None:
    store = ConversationStore(database)
    await store.remember("aad-1", "a:chat", None, SERVICE, personal("a:chat", "1"))
    await store.remember("aad-1", "a:chat", "thread-2", SERVICE, personal("a:chat", "2"))
    async with database.transaction() as session:
        rows = (await session.scalars(select(ConversationRef))).all()
    assert [(row.thread_id, (row.reference or {})["activityId"]) for row in rows] == [
        ("thread-2", "2")
    ]
