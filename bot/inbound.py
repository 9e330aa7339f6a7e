"""The inbound journal: every platform event is stored before it is acknowledged.

Slack retries an event it thinks failed, and a process can die between acknowledging an event
and answering it. Journalling first gives both: a second delivery of an event id is recognised
and skipped, and events a dead process acknowledged but never finished are picked up again by a
live one (`claim_stale`). The answer is queued in the outbox in the same transaction that marks
the event done, so an event is answered exactly once, however often it is replayed.

Payloads are stored with patient identifiers already replaced by labels.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import InboundEvent
from bot.db.session import Database
from bot.privacy import PrivacyScanner
from bot.tickets.clock import utc_now

LEASE = timedelta(seconds=60)
Replayer = Callable[[int, dict[str, Any]], Awaitable[None]]


class ReplayerRegistry(dict[str, Replayer]):
    """Per platform, how to finish a journalled event (registered by the adapters)."""


def _redacted(value: Any, scanner: PrivacyScanner) -> Any:
    if isinstance(value, str):
        return scanner.redact(value) if scanner.scan(value) else value
    if isinstance(value, dict):
        return {k: _redacted(v, scanner) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, scanner) for v in value]
    return value


class InboundJournal:
    def __init__(
        self, db: Database, scanner: PrivacyScanner, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._db = db
        self._scanner = scanner
        self._clock = clock

    async def record(self, platform: str, event_id: str, payload: dict[str, Any]) -> int | None:
        """Store a new event and return its journal id; None if this event id was seen before."""
        now = self._clock()
        row = InboundEvent(
            platform=platform,
            event_id=event_id,
            payload=json.dumps(_redacted(payload, self._scanner)),
            received_at=now,
            attempts=1,
            claimed_until=now + LEASE,
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
                await session.flush()
                return row.id
        except IntegrityError:
            return None

    async def finish_in(self, session: AsyncSession, journal_id: int) -> None:
        """Mark done inside the caller's transaction (the one that queues the answer)."""
        await session.execute(
            update(InboundEvent).where(InboundEvent.id == journal_id).values(done_at=self._clock())
        )

    async def finish(self, journal_id: int) -> None:
        async with self._db.transaction() as session:
            await self.finish_in(session, journal_id)

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
                    .values(claimed_until=now + LEASE, attempts=InboundEvent.attempts + 1)
                    .returning(InboundEvent.id, InboundEvent.platform, InboundEvent.payload)
                )
            ).all()
        return [(row_id, platform, json.loads(payload)) for row_id, platform, payload in rows]

    async def replay_stale(self, replayers: ReplayerRegistry) -> int:
        replayed = 0
        for journal_id, platform, payload in await self.claim_stale():
            replayer = replayers.get(platform)
            if replayer is not None:
                await replayer(journal_id, payload)
                replayed += 1
        return replayed
