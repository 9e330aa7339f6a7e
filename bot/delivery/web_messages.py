"""The web chat's `Messenger`. It lives in the core, not in bot/platforms/web, because the web chat's
"platform" is our own table: what the outbox "sends" to a web conversation is stored in
`web_messages`, and the page polls for it. Updating a living card rewrites its row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import TypeAdapter
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import utc_now
from bot.db.models import WebMessage
from bot.db.session import Database
from bot.delivery.outbox import DeliveryError, Destination
from bot.messages import Intent, Reply

_REPLY = TypeAdapter(Reply)
#: Edits are looked for this far before the time the page last asked, so that a change
#: committed by another worker a moment late is not missed (the page ignores repeats).
OVERLAP = timedelta(seconds=5)
#: `author` of what the person typed; the bot's messages have none.
PERSON = "person"


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation: str
    thread: str | None
    reply: Reply
    revision: int
    at: datetime
    #: "person" for what the person typed (the reply's text, redacted); None for the bot.
    author: str | None = None
    client_message_id: str | None = None


class WebMessenger:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def post(self, destination: Destination, reply: Reply) -> str:
        return await self.post_tagged(destination, reply, None)

    async def post_tagged(
        self, destination: Destination, reply: Reply, outbox_id: int | None
    ) -> str:
        """Store the message under the outbox row it is delivered for (see `find_tagged`)."""
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                row = WebMessage(
                    conversation=destination.channel_id,
                    thread=destination.thread_id,
                    outbox_id=outbox_id,
                    payload=_REPLY.dump_json(reply).decode(),
                    revision=1,
                    at=now,
                    updated_at=now,
                )
                session.add(row)
                await session.flush()
                return str(row.id)
        except IntegrityError:
            # Delivered already by an attempt whose outcome was lost: that is the message.
            found = await self.find_tagged(destination, outbox_id or 0, now)
            if found is None:
                raise
            return found

    async def record_person(
        self, conversation: str, thread: str | None, text: str, client_message_id: str | None
    ) -> StoredMessage:
        """Keep what the person typed (already redacted) in the conversation, so the page
        shows it again after a reload. Sent again under the same message id (a resend after
        a dropped connection), it is kept once: the first one is returned."""
        now = self._clock()
        reply = Reply(text=text, intent=Intent.UNKNOWN)
        try:
            async with self._db.transaction() as session:
                row = WebMessage(
                    conversation=conversation,
                    thread=thread,
                    payload=_REPLY.dump_json(reply).decode(),
                    revision=1,
                    at=now,
                    updated_at=now,
                    author=PERSON,
                    client_message_id=client_message_id,
                )
                session.add(row)
                await session.flush()
                return StoredMessage(
                    row.id, conversation, thread, reply, 1, now, PERSON, client_message_id
                )
        except IntegrityError:
            if client_message_id is None:
                raise
        async with self._db.read() as session:
            found = await session.scalar(
                select(WebMessage).where(
                    WebMessage.conversation == conversation,
                    WebMessage.client_message_id == client_message_id,
                )
            )
        if found is None:
            raise LookupError("the message's row vanished")  # pragma: no cover
        return StoredMessage(
            found.id,
            found.conversation,
            found.thread,
            _REPLY.validate_json(found.payload),
            found.revision,
            found.at,
            found.author,
            found.client_message_id,
        )

    async def find_tagged(
        self, destination: Destination, outbox_id: int, since: datetime
    ) -> str | None:
        """The message stored for this outbox row, if an earlier attempt stored it (the
        process died before the row was marked sent)."""
        async with self._db.read() as session:
            found = await session.scalar(
                select(WebMessage.id).where(WebMessage.outbox_id == outbox_id)
            )
        return None if found is None else str(found)

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

    async def latest_id(self, conversation: str, thread: str | None = None) -> int:
        """The newest message's id in a conversation (or thread), 0 if there is none."""
        query = select(func.max(WebMessage.id)).where(WebMessage.conversation == conversation)
        if thread is not None:
            query = query.where(WebMessage.thread == thread)
        async with self._db.read() as session:
            return int(await session.scalar(query) or 0)

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
                r.id,
                r.conversation,
                r.thread,
                _REPLY.validate_json(r.payload),
                r.revision,
                r.at,
                r.author,
                r.client_message_id,
            )
            for r in reversed(rows)
        ]
