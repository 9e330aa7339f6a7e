"""Outgoing messages, stored first and delivered by a worker: an outage delays, never drops.

Anything the bot says on its own initiative (a new ticket to a specialist, a clarifying
question in the requester's thread, "your evidence is ready") is written to the `outbox` table
in the same transaction as the change that caused it, then delivered by `deliver_due`, which
retries with backoff and honours `Retry-After`. Several workers can run it at once: each row is
claimed with a conditional UPDATE (a lease), so a message is sent by one worker only.

Messages that change over time (a specialist's ticket card) carry a `card_key`; the first send
posts, later ones update the posted message in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import TypeAdapter
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxMessage, PostedMessage
from bot.db.session import Database
from bot.messages import Reply
from bot.tickets.clock import utc_now

log = logging.getLogger(__name__)

_REPLY = TypeAdapter(Reply)
LEASE = timedelta(seconds=60)
#: A thread id of "card:<card_key>" means "in the thread under that living card"; the posted
#: card's platform message id becomes the thread when the message is sent.
CARD_THREAD = "card:"
MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a channel or conversation, optionally a thread within it."""

    platform: str
    channel_id: str
    thread_id: str | None = None


class DeliveryError(Exception):
    """Raised by a messenger; `retry_after` (seconds) comes from the platform's rate limit."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Messenger(Protocol):
    """One platform's way of posting and updating messages (Slack Web API, Bot Framework)."""

    async def post(self, destination: Destination, reply: Reply) -> str: ...

    async def update(self, destination: Destination, message_id: str, reply: Reply) -> None: ...


def backoff(attempt: int) -> timedelta:
    """2, 4, 8 ... seconds, capped at 15 minutes."""
    return timedelta(seconds=min(900, 2**attempt))


class Outbox:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    def add(
        self,
        session: AsyncSession,
        destination: Destination,
        reply: Reply,
        *,
        card_key: str | None = None,
    ) -> None:
        """Queue a message inside the caller's transaction: it is sent only if that commits."""
        session.add(
            OutboxMessage(
                platform=destination.platform,
                channel_id=destination.channel_id,
                thread_id=destination.thread_id,
                card_key=card_key,
                payload=_REPLY.dump_json(reply).decode(),
                status="pending",
                attempts=0,
                next_attempt_at=self._clock(),
                created_at=self._clock(),
            )
        )

    async def enqueue(
        self,
        destination: Destination,
        reply: Reply,
        *,
        card_key: str | None = None,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> None:
        """Queue a message; `also` runs in the same transaction (marking the inbound event
        that caused it done), so both happen or neither does."""
        async with self._db.transaction() as session:
            self.add(session, destination, reply, card_key=card_key)
            if also is not None:
                await also(session)

    async def _claim(self, limit: int) -> list[OutboxMessage]:
        now = self._clock()
        async with self._db.transaction() as session:
            candidates = (
                await session.scalars(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.status == "pending",
                        OutboxMessage.next_attempt_at <= now,
                        or_(
                            OutboxMessage.claimed_until.is_(None),
                            OutboxMessage.claimed_until < now,
                        ),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                )
            ).all()
        if not candidates:
            return []
        async with self._db.transaction() as session:
            # One conditional UPDATE claims the batch; a row another worker took in between
            # fails the condition and is simply not returned.
            claimed = (
                await session.scalars(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(candidates),
                        OutboxMessage.status == "pending",
                        or_(
                            OutboxMessage.claimed_until.is_(None),
                            OutboxMessage.claimed_until < now,
                        ),
                    )
                    .values(claimed_until=now + LEASE, attempts=OutboxMessage.attempts + 1)
                    .returning(OutboxMessage)
                )
            ).all()
        return sorted(claimed, key=lambda row: row.id)

    async def deliver_due(
        self, messengers: Mapping[str, Messenger], limit: int = 100, concurrency: int = 16
    ) -> int:
        """Send what is due; returns how many were delivered. Safe to run on several workers.

        Messages to the same conversation (or the same card) go one after another, in the order
        they were queued; different conversations go in parallel, because a real chat API
        takes tens of milliseconds a call.
        """
        lanes: dict[tuple[str, str, str], list[OutboxMessage]] = {}
        for row in await self._claim(limit):
            lane = (
                row.platform,
                row.card_key or row.channel_id,
                "" if row.card_key else row.thread_id or "",
            )
            lanes.setdefault(lane, []).append(row)
        gate = asyncio.Semaphore(concurrency)

        async def drive(rows: list[OutboxMessage]) -> int:
            async with gate:
                return sum([await self._deliver(row, messengers) for row in rows])

        return sum(await asyncio.gather(*(drive(rows) for rows in lanes.values())))

    async def _deliver(self, row: OutboxMessage, messengers: Mapping[str, Messenger]) -> int:
        messenger = messengers.get(row.platform)
        if messenger is None:
            await self._retry(row.id, row.attempts, "no messenger for this platform", None)
            return 0
        destination = Destination(row.platform, row.channel_id, row.thread_id)
        reply = _REPLY.validate_json(row.payload)
        if row.thread_id and row.thread_id.startswith(CARD_THREAD):
            card = await self._posted(row.thread_id.removeprefix(CARD_THREAD))
            if card is None:  # the card itself is not out yet: the reply waits for it
                await self._retry(row.id, row.attempts, "card not posted yet", 2.0)
                return 0
            destination = Destination(row.platform, card.channel_id, card.message_id)
        try:
            posted = await self._posted(row.card_key) if row.card_key else None
            if posted is not None:
                await messenger.update(
                    Destination(row.platform, posted.channel_id, posted.thread_id),
                    posted.message_id,
                    reply,
                )
                message_id = posted.message_id
            else:
                message_id = await messenger.post(destination, reply)
        except DeliveryError as exc:
            await self._retry(row.id, row.attempts, str(exc), exc.retry_after, exc.permanent)
            return 0
        except Exception as exc:  # a bug or an unexpected transport error: keep the message
            log.exception("outbox delivery %s failed unexpectedly", row.id)
            await self._retry(row.id, row.attempts, exc.__class__.__name__, None)
            return 0
        await self._sent(row, message_id)
        return 1

    async def _posted(self, card_key: str) -> PostedMessage | None:
        async with self._db.transaction() as session:
            return await session.scalar(
                select(PostedMessage).where(PostedMessage.card_key == card_key)
            )

    async def _sent(self, row: OutboxMessage, message_id: str) -> None:
        now = self._clock()
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status="sent", sent_at=now, claimed_until=None, message_id=message_id)
            )
        if row.card_key:
            try:
                async with self._db.transaction() as session:
                    session.add(
                        PostedMessage(
                            card_key=row.card_key,
                            platform=row.platform,
                            channel_id=row.channel_id,
                            thread_id=row.thread_id,
                            message_id=message_id,
                        )
                    )
            except IntegrityError:
                # Two first posts of one card raced; the unique key keeps the first, and later
                # updates go to it.
                log.info("card %s was already posted; keeping the first", row.card_key)

    async def _retry(
        self,
        message_id: int,
        attempts: int,
        reason: str,
        retry_after: float | None,
        permanent: bool = False,
    ) -> None:
        now = self._clock()
        failed = permanent or attempts >= MAX_ATTEMPTS
        delay = timedelta(seconds=retry_after) if retry_after is not None else backoff(attempts)
        log.warning(
            "outbox message %s not delivered (attempt %s): %s%s",
            message_id,
            attempts,
            reason,
            "; giving up" if failed else f"; retrying in {delay.total_seconds():.0f}s",
        )
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    status="failed" if failed else "pending",
                    next_attempt_at=now + delay,
                    claimed_until=None,
                    last_error=reason[:500],
                )
            )

    async def depth(self) -> tuple[int, float]:
        """Pending messages and the age in seconds of the oldest (for /metrics and /readyz)."""
        async with self._db.transaction() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.status == "pending"
                    )
                )
            ).one()
        age = (self._clock() - oldest).total_seconds() if oldest is not None else 0.0
        return int(count), age


class MessengerRegistry(dict[str, Messenger]):
    """The messengers of the platforms this process is connected to, by platform name."""


class OutboxWorker:
    """Delivers the outbox in the background: at once when kicked, else every `interval`.

    Handlers kick it after queueing, so a reply goes out within milliseconds when the platform
    is up, and on the next attempt when it is not.
    """

    def __init__(self, outbox: Outbox, messengers: MessengerRegistry, interval: float) -> None:
        self.outbox = outbox
        self.messengers = messengers
        self.interval = interval
        self._wake = asyncio.Event()

    def kick(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                if self.messengers:
                    await self.outbox.deliver_due(self.messengers)
            except Exception:
                log.exception("outbox delivery round failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
