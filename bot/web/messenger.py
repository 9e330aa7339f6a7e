"""The web chat's `Messenger`: what the outbox "sends" to a web conversation is stored in
`web_messages`, and the page polls for it. Updating a living card rewrites its row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import TypeAdapter
from sqlalchemy import or_, select, update

from bot.db.models import WebMessage
from bot.db.session import Database
from bot.messages import Reply
from bot.outbox import DeliveryError, Destination
from bot.tickets.clock import utc_now

_REPLY = TypeAdapter(Reply)
#: Edits are looked for this far before the time the page last asked, so that a change
#: committed by another worker a moment late is not missed (the page ignores repeats).
OVERLAP = timedelta(seconds=5)


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation: str
    thread: str | None
    reply: Reply
    revision: int
    at: datetime


class WebMessenger:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def post(self, destination: Destination, reply: Reply) -> str:
        now = self._clock()
        async with self._db.transaction() as session:
            row = WebMessage(
                conversation=destination.channel_id,
                thread=destination.thread_id,
                payload=_REPLY.dump_json(reply).decode(),
                revision=1,
                at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            return str(row.id)

    async def update(self, destination: Destination, message_id: str, reply: Reply) -> None:
        try:
            key = int(message_id)
        except ValueError as exc:
            raise DeliveryError(f"not a web message id: {message_id!r}", permanent=True) from exc
        async with self._db.transaction() as session:
            result = await session.execute(
                update(WebMessage)
                .where(WebMessage.id == key)
                .values(
                    payload=_REPLY.dump_json(reply).decode(),
                    revision=WebMessage.revision + 1,
                    updated_at=self._clock(),
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise DeliveryError(f"web message {key} does not exist", permanent=True)

    async def messages(
        self,
        conversation: str,
        *,
        thread: str | None = None,
        after: int = 0,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[StoredMessage]:
        """New messages (id above `after`) and, with `since`, ones edited since then; in a
        thread, only that thread's. The first call (`after` 0) gets the latest `limit`."""
        query = select(WebMessage).where(WebMessage.conversation == conversation)
        if thread is not None:
            query = query.where(WebMessage.thread == thread)
        if since is not None:
            query = query.where(
                or_(WebMessage.id > after, WebMessage.updated_at >= since - OVERLAP)
            )
        else:
            query = query.where(WebMessage.id > after)
        async with self._db.transaction() as session:
            rows = list(await session.scalars(query.order_by(WebMessage.id.desc()).limit(limit)))
        return [
            StoredMessage(
                r.id, r.conversation, r.thread, _REPLY.validate_json(r.payload), r.revision, r.at
            )
            for r in reversed(rows)
        ]
