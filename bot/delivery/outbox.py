"""Outgoing messages, stored first and delivered by a worker: an outage delays, never drops.

Anything the bot says on its own initiative (a new ticket to a specialist, a clarifying
question in the requester's thread, "your evidence is ready") is written to the `outbox` table
in the same transaction as the change that caused it, then delivered by `deliver_due`, which
retries with backoff and honours `Retry-After`. Several workers can run it at once: each row is
claimed with a conditional UPDATE (a lease), so a message is sent by one worker only.

Messages that change over time (a specialist's ticket card) carry a `card_key`; the first send
posts, later ones update the posted message in place. The first post is reserved in
`posted_messages` before it is made, so two workers holding two versions of a new card cannot
both post it: the second waits and then updates.

Exactly once at the wire. A worker can die (or time out) after the platform accepted a post but
before the row is marked sent; the row's outcome is then unknown. Such a row keeps a non-null,
expired `claimed_until` (a lease that ran out, or a failure whose outcome is unknown, such as a
timeout or a 5xx), and whoever claims it next treats it as in doubt: a messenger that can tag
its posts with the row id and search for them (`TaggedMessenger`; Slack does it with message
metadata) is asked first whether the earlier attempt landed, and the message is posted again
only if it did not. A known outcome (sent, a definite refusal, a rate limit) clears the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Final, Protocol, TypeGuard, runtime_checkable

from pydantic import TypeAdapter
from sqlalchemy import bindparam, delete, event, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.clock import utc_now
from bot.db.models import OutboxMessage, PostedMessage
from bot.db.session import Database
from bot.db.sqlite_on_loop import statements_on_the_loop
from bot.messages import Destination as Destination  # re-exported: where it was first
from bot.messages import Reply

log = logging.getLogger(__name__)

_REPLY = TypeAdapter(Reply)
#: Plain rows, without the ORM (`Outbox.batched`).
_INSERT: Final = insert(OutboxMessage.__table__)  # type: ignore[arg-type]
_ROWS: Final = OutboxMessage.__table__.c
#: Delivered rows marked sent, on the table: the ORM's bulk update by primary key cost more
#: than the statement.
_MARK_SENT: Final = (
    update(OutboxMessage.__table__)  # type: ignore[arg-type]
    .where(_ROWS.id == bindparam("row_id"))
    .values(status="sent", sent_at=bindparam("sent"), claimed_until=None,
            message_id=bindparam("platform_id"))
)  # fmt: skip
LEASE = timedelta(seconds=60)
#: A thread id of "card:<card_key>" means "in the thread under that living card"; the posted
#: card's platform message id becomes the thread when the message is sent.
CARD_THREAD = "card:"
MAX_ATTEMPTS = 12
#: `posted_messages.message_id` of a card whose first post outbox row N is making: "reserved:N".
RESERVED = "reserved:"
#: Session.info key: this session's commit will wake the outbox worker.
_WAKE_PENDING = "evidence_desk_outbox_wake"


class DeliveryError(Exception):
    """Raised by a messenger; `retry_after` (seconds) comes from the platform's rate limit.

    `uncertain`: the platform may have accepted the message all the same (a timeout, a 5xx),
    so the next attempt checks before posting again.
    """

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        uncertain: bool = False,
    ):
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent
        self.uncertain = uncertain


class Messenger(Protocol):
    """One platform's way of posting and updating messages (Slack Web API, Bot Framework)."""

    async def post(self, destination: Destination, reply: Reply) -> str: ...

    async def update(self, destination: Destination, message_id: str, reply: Reply) -> None: ...


@runtime_checkable
class TaggedMessenger(Protocol):
    """A messenger that can label a post with the outbox row it came from and find it again,
    so a message whose earlier attempt has an unknown outcome is not posted twice."""

    async def post_tagged(self, destination: Destination, reply: Reply, outbox_id: int) -> str: ...

    async def find_tagged(
        self, destination: Destination, outbox_id: int, since: datetime
    ) -> str | None:
        """The platform message id of the post tagged `outbox_id`, or None if there is none."""
        ...


_TAGGING: dict[type, bool] = {}


def _tags_posts(messenger: Messenger) -> TypeGuard[TaggedMessenger]:
    """Whether the messenger is a TaggedMessenger; remembered per class, since a runtime
    Protocol check inspects every method each time (it showed up under load)."""
    kind = type(messenger)
    if kind not in _TAGGING:
        _TAGGING[kind] = isinstance(messenger, TaggedMessenger)
    return _TAGGING[kind]


class _Wait(Exception):
    """The row cannot go yet (its card is not out, or another worker is posting the card)."""


def backoff(attempt: int) -> timedelta:
    """2, 4, 8 ... seconds, capped at 15 minutes."""
    return timedelta(seconds=min(900, 2**attempt))


def _pending_row(
    destination: Destination, reply: Reply, card_key: str | None, now: datetime
) -> dict[str, object]:
    """The columns of a newly queued message, for the ORM (`Outbox.add`) and for a plain
    INSERT (`BatchedMessages`) alike."""
    return {
        "platform": destination.platform,
        "channel_id": destination.channel_id,
        "thread_id": destination.thread_id,
        "visible_to": destination.visible_to,
        "card_key": card_key,
        "payload": _REPLY.dump_json(reply).decode(),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


class BatchedMessages:
    """Messages queued by `Outbox.batched`, written in one INSERT; see there."""

    def __init__(self, outbox: Outbox, session: AsyncSession) -> None:
        self._outbox = outbox
        self._session = session
        self._rows: list[dict[str, object]] = []
        event.listen(session.sync_session, "before_flush", self._before_flush)

    async def add(self, destination: Destination, reply: Reply) -> None:
        if self._session.new:
            # Something was queued through the ORM since (`Outbox.add`): flushing it writes
            # what was batched before it first (_before_flush), then it.
            await self._session.flush()
        # Here, not in `write`: a flush may write the row before the block ends.
        self._outbox._wake_after_commit(self._session)
        self._rows.append(_pending_row(destination, reply, None, self._outbox._clock()))

    async def write(self) -> None:
        rows, self._rows = self._rows, []
        if rows:
            await self._session.execute(_INSERT, rows)

    def _before_flush(self, sync_session: Session, _context: object, _objects: object) -> None:
        rows, self._rows = self._rows, []
        if rows:
            sync_session.connection().execute(_INSERT, rows)

    def stop_watching(self) -> None:
        event.remove(self._session.sync_session, "before_flush", self._before_flush)


class Outbox:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = utc_now,
        *,
        lease: timedelta = LEASE,
    ) -> None:
        self._db = db
        self._clock = clock
        #: How long a claimed row is left to its worker before another may take it (in doubt).
        #: Keep it well above the slowest delivery round, or a slow live worker's row is
        #: checked and posted by another worker while the first is still posting it.
        self.lease = lease
        self._wakers: list[Callable[[], None]] = []

    def add(
        self,
        session: AsyncSession,
        destination: Destination,
        reply: Reply,
        *,
        card_key: str | None = None,
    ) -> None:
        """Queue a message inside the caller's transaction: it is sent only if that commits,
        and the worker is woken as soon as it has (no caller needs to remember to)."""
        self._wake_after_commit(session)
        session.add(OutboxMessage(**_pending_row(destination, reply, card_key, self._clock())))

    @contextlib.asynccontextmanager
    async def batched(self, session: AsyncSession) -> AsyncIterator[BatchedMessages]:
        """Queue plain messages (no card) inside the caller's transaction, written together
        in one statement when the block ends: the answers of a batch of questions. The ORM's
        unit of work inserts its rows one statement each on SQLite (it needs each new id
        back), which was most of an answering transaction's database time.

        Order is kept with what others queue meanwhile through `add` (a ticket notice the desk
        queues while answering one of the questions): messages batched before it are written
        before it."""
        batch = BatchedMessages(self, session)
        try:
            yield batch
            await batch.write()
        finally:
            batch.stop_watching()

    def _wake_after_commit(self, session: AsyncSession) -> None:
        sync_session = session.sync_session
        if sync_session.info.get(_WAKE_PENDING):
            return
        sync_session.info[_WAKE_PENDING] = True

        def woken(_session: Session) -> None:
            sync_session.info.pop(_WAKE_PENDING, None)
            for wake in self._wakers:
                wake()

        def dropped(_session: Session, _transaction: object = None) -> None:
            sync_session.info.pop(_WAKE_PENDING, None)

        event.listen(sync_session, "after_commit", woken, once=True)
        event.listen(sync_session, "after_soft_rollback", dropped, once=True)

    def on_commit(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever a transaction that queued a message commits (the worker's
        kick): a reply goes out within milliseconds, whoever queued it."""
        self._wakers.append(wake)

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

    async def _claim(
        self, limit: int, platforms: Collection[str] | None = None
    ) -> list[tuple[OutboxMessage, bool]]:
        """Claim due rows; each comes with whether its previous attempt's outcome is unknown."""
        now = self._clock()
        due = select(OutboxMessage.id, OutboxMessage.claimed_until).where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        if platforms is not None:
            due = due.where(OutboxMessage.platform.in_(list(platforms)))
        async with self._db.read() as session:
            candidates = (await session.execute(due.order_by(OutboxMessage.id).limit(limit))).all()
        if not candidates:
            return []
        fresh = [row_id for row_id, until in candidates if until is None]
        doubtful = [row_id for row_id, until in candidates if until is not None]
        claimed: list[tuple[OutboxMessage, bool]] = []
        async with self._db.transaction() as session:
            # Conditional UPDATEs claim the batch; a row another worker took in between fails
            # the condition and is simply not returned. Fresh and in-doubt rows are claimed
            # separately, each on the state it was seen in, so neither is mistaken for the other.
            for ids, in_doubt, condition in (
                (fresh, False, OutboxMessage.claimed_until.is_(None)),
                (doubtful, True, OutboxMessage.claimed_until < now),
            ):
                if not ids:
                    continue
                rows = await session.scalars(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending", condition)
                    .values(claimed_until=now + self.lease, attempts=OutboxMessage.attempts + 1)
                    .returning(OutboxMessage)
                )
                claimed += [(row, in_doubt) for row in rows.all()]
        return sorted(claimed, key=lambda pair: pair[0].id)

    @statements_on_the_loop  # short statements on indexed rows (bot/db/sqlite_on_loop.py)
    async def deliver_due(
        self,
        messengers: Mapping[str, Messenger],
        limit: int = 100,
        concurrency: int = 16,
        *,
        only_platforms: Collection[str] | None = None,
    ) -> int:
        """Send what is due; returns how many were delivered. Safe to run on several workers.

        `only_platforms`: leave other platforms' messages alone (neither sent nor counted as
        an attempt), for a process that speaks for one platform beside a server that speaks
        for the rest on the same database (the terminal chat: bot/platforms/terminal.py).

        Messages to the same conversation (or the same card) go one after another, in the order
        they were queued; different conversations go in parallel, because a real chat API
        takes tens of milliseconds a call.
        """
        lanes: dict[tuple[str, str, str], list[tuple[OutboxMessage, bool]]] = {}
        for row, in_doubt in await self._claim(limit, only_platforms):
            lane = (
                row.platform,
                row.card_key or row.channel_id,
                "" if row.card_key else row.thread_id or "",
            )
            lanes.setdefault(lane, []).append((row, in_doubt))
        lanes_at_once = asyncio.Semaphore(concurrency)
        # Plain messages delivered in this round, marked sent together at its end (one
        # transaction, not one each). Cards are marked at once: their next version and the
        # replies under them look for where the card was posted.
        delivered: list[tuple[int, str]] = []

        async def drive(rows: list[tuple[OutboxMessage, bool]]) -> int:
            async with lanes_at_once:
                return sum(
                    [
                        await self._deliver(row, in_doubt, messengers, delivered)
                        for row, in_doubt in rows
                    ]
                )

        try:
            return sum(await asyncio.gather(*(drive(rows) for rows in lanes.values())))
        finally:
            # Even when the round is cut short; a row posted but not marked (the process
            # died) is in doubt after its lease, and checked before it is posted again.
            await self._mark_sent(delivered)

    async def _deliver(
        self,
        row: OutboxMessage,
        in_doubt: bool,
        messengers: Mapping[str, Messenger],
        delivered: list[tuple[int, str]],
    ) -> int:
        messenger = messengers.get(row.platform)
        if messenger is None:
            await self._retry(row, "no messenger for this platform", None, uncertain=in_doubt)
            return 0
        destination = Destination(row.platform, row.channel_id, row.thread_id, row.visible_to)
        reply = _REPLY.validate_json(row.payload)
        try:
            if row.thread_id and row.thread_id.startswith(CARD_THREAD):
                card = await self._posted(row.thread_id.removeprefix(CARD_THREAD))
                if card is None:  # the card itself is not out yet: the reply waits for it
                    raise _Wait("card not posted yet")
                destination = Destination(row.platform, card.channel_id, card.message_id)
            posted = await self._reserve(row, row.card_key) if row.card_key else None
            if posted is not None:
                await messenger.update(
                    Destination(row.platform, posted.channel_id, posted.thread_id),
                    posted.message_id,
                    reply,
                )
                message_id = posted.message_id
            else:
                message_id = await self._post_once(messenger, row, in_doubt, destination, reply)
        except _Wait as wait:
            await self._wait(row, str(wait), in_doubt)
            return 0
        except DeliveryError as exc:
            await self._retry(
                row,
                str(exc),
                exc.retry_after,
                exc.permanent,
                # Still in doubt if it was and nothing was posted since (a 429 on the check).
                uncertain=exc.uncertain or (in_doubt and not exc.permanent),
            )
            return 0
        except Exception as exc:  # a bug or an unexpected transport error: keep the message
            log.exception("outbox delivery %s failed unexpectedly", row.id)
            await self._retry(row, exc.__class__.__name__, None, uncertain=True)
            return 0
        if row.card_key:
            await self._sent(row, message_id)
        else:
            delivered.append((row.id, message_id))
        return 1

    async def _mark_sent(self, delivered: list[tuple[int, str]]) -> None:
        if not delivered:
            return
        now = self._clock()
        async with self._db.transaction() as session:
            await session.execute(
                _MARK_SENT,
                [
                    {"row_id": row_id, "sent": now, "platform_id": message_id}
                    for row_id, message_id in delivered
                ],
            )

    async def _post_once(
        self,
        messenger: Messenger,
        row: OutboxMessage,
        in_doubt: bool,
        destination: Destination,
        reply: Reply,
    ) -> str:
        if not _tags_posts(messenger):
            return await messenger.post(destination, reply)
        if in_doubt:
            found = await messenger.find_tagged(destination, row.id, row.created_at)
            if found is not None:
                log.info("outbox message %s had been delivered before; not sending again", row.id)
                return found
        return await messenger.post_tagged(destination, reply, row.id)

    async def _posted(self, card_key: str) -> PostedMessage | None:
        """Where the card is, once its first post is out (a reservation is not)."""
        async with self._db.read() as session:
            return await session.scalar(
                select(PostedMessage).where(
                    PostedMessage.card_key == card_key,
                    PostedMessage.message_id.not_like(f"{RESERVED}%"),
                )
            )

    async def _reserve(self, row: OutboxMessage, card_key: str) -> PostedMessage | None:
        """The posted card to update; None when this row is to make the first post (the post
        is then reserved for it). Raises _Wait while another row is making the first post."""
        mine = f"{RESERVED}{row.id}"
        try:
            async with self._db.transaction() as session:
                session.add(
                    PostedMessage(
                        card_key=card_key,
                        platform=row.platform,
                        channel_id=row.channel_id,
                        thread_id=row.thread_id,
                        message_id=mine,
                    )
                )
            return None
        except IntegrityError:
            pass
        async with self._db.read() as session:
            existing = await session.scalar(
                select(PostedMessage).where(PostedMessage.card_key == card_key)
            )
        if existing is None:  # a failed first post gave its reservation up just now
            raise _Wait("card reservation released; trying again")
        if existing.message_id == mine:  # this row's own earlier attempt reserved it
            return None
        if existing.message_id.startswith(RESERVED):
            raise _Wait("another worker is posting this card")
        return existing

    async def _sent(self, row: OutboxMessage, message_id: str) -> None:
        now = self._clock()
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status="sent", sent_at=now, claimed_until=None, message_id=message_id)
            )
            if row.card_key:
                await session.execute(
                    update(PostedMessage)
                    .where(
                        PostedMessage.card_key == row.card_key,
                        PostedMessage.message_id == f"{RESERVED}{row.id}",
                    )
                    .values(message_id=message_id)
                )

    async def _release(self, row: OutboxMessage) -> None:
        """Give up this row's reservation of its card's first post (it will not be made)."""
        if row.card_key:
            async with self._db.transaction() as session:
                await session.execute(
                    delete(PostedMessage).where(
                        PostedMessage.card_key == row.card_key,
                        PostedMessage.message_id == f"{RESERVED}{row.id}",
                    )
                )

    async def _wait(self, row: OutboxMessage, reason: str, in_doubt: bool) -> None:
        """Not an attempt: try again shortly, without using up the row's attempts."""
        now = self._clock()
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    next_attempt_at=now + timedelta(seconds=2),
                    attempts=OutboxMessage.attempts - 1,
                    claimed_until=now if in_doubt else None,
                    last_error=reason[:500],
                )
            )

    async def _retry(
        self,
        row: OutboxMessage,
        reason: str,
        retry_after: float | None,
        permanent: bool = False,
        *,
        uncertain: bool = False,
    ) -> None:
        now = self._clock()
        attempts = row.attempts
        failed = permanent or attempts >= MAX_ATTEMPTS
        delay = timedelta(seconds=retry_after) if retry_after is not None else backoff(attempts)
        log.warning(
            "outbox message %s not delivered (attempt %s): %s%s",
            row.id,
            attempts,
            reason,
            "; giving up" if failed else f"; retrying in {delay.total_seconds():.0f}s",
        )
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    status="failed" if failed else "pending",
                    next_attempt_at=now + delay,
                    # An expired lease, not none, marks "the outcome is unknown": the next
                    # attempt checks whether this one landed before posting again.
                    claimed_until=now if uncertain and not failed else None,
                    last_error=reason[:500],
                )
            )
        if failed:
            await self._release(row)

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

    The outbox kicks it when a transaction that queued a message commits, so a reply goes
    out within milliseconds when the platform is up, and on the next attempt when it is not.
    """

    def __init__(self, outbox: Outbox, messengers: MessengerRegistry, interval: float) -> None:
        self.outbox = outbox
        self.messengers = messengers
        self.interval = interval
        self._wake = asyncio.Event()
        self._stopping = False
        outbox.on_commit(self.kick)

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the round in progress, make one last round, and return from `run`."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            stopping = self._stopping
            self._wake.clear()
            try:
                if self.messengers:
                    await self.outbox.deliver_due(self.messengers)
            except Exception:
                log.exception("outbox delivery round failed; will try again")
            if stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
