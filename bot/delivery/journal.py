"""The inbound journal: every platform event is stored before it is acknowledged.

Slack retries an event it thinks failed, and a process can die between acknowledging an event
and answering it. Journalling first gives both: a second delivery of an event id is recognised
and skipped, and events a dead process acknowledged but never finished are picked up again by a
live one (`claim_stale`). The answer is queued in the outbox in the same transaction that marks
the event done, so an event is answered exactly once, however often it is replayed.

Several processes can share one journal. Finishing is conditional (`finish_in` refuses an
event that is already done, which rolls back the caller's transaction and so its answer), so an
event replayed by one process while another is still finishing it is answered once. At
shutdown a process gives back the leases of the events it still holds (`release_held`), so a
peer replays them at once instead of after the lease.

Payloads are stored with patient identifiers already replaced by labels, and only until the
event is finished: then the payload is emptied and only the event id is kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import InboundEvent
from bot.db.session import Database
from bot.delivery.group_commit import GroupCommit
from bot.desk.privacy import PrivacyScanner

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
#: What a finished event's payload becomes. The row stays, so a late retry is still recognised,
#: but the text is needed only until the event is answered (to replay it after a crash): a
#: message the bot overheard in a listening channel, or answered, is not kept.
FINISHED_PAYLOAD = "{}"
#: How long a finished event's id is remembered, to recognise a late retry of it.
RETRY_MEMORY = timedelta(days=7)
#: Keys whose values the platform or the bot assigns (ids, timestamps, kinds, the platform's
#: name), never a person: they are kept as they are, which also keeps a replayed event's thread
#: and channel intact, and spares the scanner's phone-number matcher a dozen digit strings an
#: event. (The neutral message's `received_at` timestamp alone made the phone matcher, the
#: scanner's slowest part, run on every journalled event.)
_PLATFORM_KEYS = frozenset({"id", "ts", "type", "subtype", "channel", "user", "team", "platform"})


def _platform_assigned(key: str) -> bool:
    return key in _PLATFORM_KEYS or key.endswith(("_id", "_ts", "Id", "_at"))


def _redacted(value: Any, scanner: PrivacyScanner) -> Any:
    if isinstance(value, str):
        return scanner.redact(value) if scanner.scan(value) else value
    if isinstance(value, dict):
        return {
            k: v if isinstance(k, str) and _platform_assigned(k) else _redacted(v, scanner)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(v, scanner) for v in value]
    return value


#: Done, with its text dropped; only if not done already (by a peer or a replay). Built once:
#: building the statement anew for every answered event (coercing each clause)
#: cost more than executing it.
# On the table, not the mapped class: no journal rows are loaded as objects in these sessions,
# so there is nothing for the ORM's bulk-update path to synchronise, only its cost to pay.
_EVENTS: Final = InboundEvent.__table__.c
_MARK_DONE: Final = (
    update(InboundEvent.__table__)  # type: ignore[arg-type]
    .where(_EVENTS.id == bindparam("journal_id"), _EVENTS.done_at.is_(None))
    .values(done_at=bindparam("done_at"), payload=FINISHED_PAYLOAD)
)

_MARK_ALL_DONE: Final = (
    update(InboundEvent.__table__)  # type: ignore[arg-type]
    .where(
        _EVENTS.id.in_(bindparam("journal_ids", expanding=True)),
        _EVENTS.done_at.is_(None),
    )
    .values(done_at=bindparam("done_at"), payload=FINISHED_PAYLOAD)
)


class AlreadyFinished(Exception):
    """The event was finished by another process (or an earlier replay): do not answer it."""


class InboundJournal:
    def __init__(
        self,
        db: Database,
        scanner: PrivacyScanner,
        clock: Callable[[], datetime] = utc_now,
        *,
        lease: timedelta = LEASE,
    ) -> None:
        self._db = db
        self._writer = GroupCommit(db)
        self._scanner = scanner
        self._clock = clock
        #: How long an acknowledged event is left to its process before another replays it.
        self.lease = lease
        #: Events this process journalled or claimed and has not finished.
        self._held: set[int] = set()
        #: Events given back at shutdown: a peer answers them, so this process must not
        #: mark them done (a handler cancelled at exit would, answering nothing).
        self._handed_back: set[int] = set()

    async def record(self, platform: str, event_id: str, payload: dict[str, Any]) -> int | None:
        """Store a new event and return its journal id; None if this event id was seen before.

        Events arriving together are written in one transaction (bot/delivery/group_commit.py), ahead
        of queued answering work, since each of them is waiting to be acknowledged."""
        now = self._clock()
        journal_id = await self._writer.insert(
            {
                "platform": platform,
                "event_id": event_id,
                "payload": json.dumps(_redacted(payload, self._scanner)),
                "received_at": now,
                "attempts": 1,
                "claimed_until": now + self.lease,
            }
        )
        if journal_id is not None:
            self._held.add(journal_id)
        return journal_id

    async def finish_in(self, session: AsyncSession, journal_id: int) -> None:
        """Mark done inside the caller's transaction (the one that queues the answer).

        Raises AlreadyFinished if it was done already, or handed back at shutdown (a peer
        answers it now), so that transaction rolls back and the event is not answered twice."""
        self._held.discard(journal_id)
        if journal_id in self._handed_back:
            raise AlreadyFinished(f"inbound event {journal_id} was handed back to a peer")
        result = await session.execute(_MARK_DONE, self._done(journal_id))
        if getattr(result, "rowcount", 1) == 0:
            raise AlreadyFinished(f"inbound event {journal_id} was finished already")

    async def finish_all_in(self, session: AsyncSession, journal_ids: Sequence[int]) -> None:
        """`finish_in` for several events in one statement: raises AlreadyFinished if any of
        them was done already, so the caller's transaction, and every answer in it, rolls back
        (the caller then answers them one at a time)."""
        wanted = set(journal_ids)
        self._held.difference_update(wanted)
        if wanted & self._handed_back:
            raise AlreadyFinished("an inbound event of the batch was handed back to a peer")
        result = await session.execute(
            _MARK_ALL_DONE, {"journal_ids": sorted(wanted), "done_at": self._clock()}
        )
        if getattr(result, "rowcount", len(wanted)) != len(wanted):
            raise AlreadyFinished("an inbound event of the batch was finished already")

    async def finish(self, journal_id: int) -> None:
        """Mark done with nothing to send; a no-op if it was done already or handed back."""
        self._held.discard(journal_id)
        if journal_id in self._handed_back:
            return
        async with self._db.transaction() as session:
            await session.execute(_MARK_DONE, self._done(journal_id))

    def _done(self, journal_id: int) -> dict[str, Any]:
        """The parameters of `_MARK_DONE` for this event, now."""
        return {"journal_id": journal_id, "done_at": self._clock()}

    async def forget_finished(self, older_than: timedelta = RETRY_MEMORY) -> int:
        """Delete events finished more than `older_than` ago; returns how many. Their ids were
        kept to recognise retries, which Slack and the Bot Framework send within minutes, not
        weeks, so the table need not grow for ever."""
        cutoff = self._clock() - older_than
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(InboundEvent).where(
                    InboundEvent.done_at.is_not(None), InboundEvent.done_at < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    def handed_back(self, journal_id: int) -> bool:
        """Whether this process gave the event back at shutdown: a peer answers it, not us."""
        return journal_id in self._handed_back

    def holds(self, journal_id: int) -> bool:
        """Whether this process journalled or claimed the event and has not finished it."""
        return journal_id in self._held

    async def is_done(self, journal_id: int) -> bool:
        async with self._db.transaction() as session:
            done = await session.scalar(
                select(InboundEvent.done_at).where(InboundEvent.id == journal_id)
            )
            return done is not None

    async def claim_stale(self, limit: int = 50) -> list[tuple[int, str, dict[str, Any]]]:
        """Unfinished events whose lease ran out (their process died): claim them to replay."""
        now = self._clock()
        stale = and_(
            InboundEvent.done_at.is_(None),
            or_(InboundEvent.claimed_until.is_(None), InboundEvent.claimed_until < now),
        )
        async with self._db.transaction() as session:
            ids = (
                await session.scalars(
                    select(InboundEvent.id).where(stale).order_by(InboundEvent.id).limit(limit)
                )
            ).all()
            if not ids:
                return []
            rows = (
                await session.execute(
                    update(InboundEvent)
                    .where(InboundEvent.id.in_(ids), stale)
                    .values(claimed_until=now + self.lease, attempts=InboundEvent.attempts + 1)
                    .returning(InboundEvent.id, InboundEvent.platform, InboundEvent.payload)
                )
            ).all()
        self._held.update(row_id for row_id, _, _ in rows)
        return [(row_id, platform, json.loads(payload)) for row_id, platform, payload in rows]

    @property
    def held(self) -> frozenset[int]:
        """Events this process journalled or claimed and has not finished."""
        return frozenset(self._held)

    async def release_held(self, grace: float) -> int:
        """At shutdown: wait up to `grace` seconds for held events to finish, then give back
        the leases of those that did not, so a peer replays them at once; returns how many."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._held:
            async with self._db.transaction() as session:
                done = (
                    await session.scalars(
                        select(InboundEvent.id).where(
                            InboundEvent.id.in_(list(self._held)), InboundEvent.done_at.is_not(None)
                        )
                    )
                ).all()
            self._held.difference_update(done)
            if not self._held or loop.time() >= deadline:
                break
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
        held, self._held = list(self._held), set()
        if not held:
            return 0
        self._handed_back.update(held)
        async with self._db.transaction() as session:
            result = await session.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(held), InboundEvent.done_at.is_(None))
                .values(claimed_until=None)
            )
        released = int(getattr(result, "rowcount", 0) or 0)
        log.info("shutting down: handed back %s unfinished inbound event(s)", released)
        return released
