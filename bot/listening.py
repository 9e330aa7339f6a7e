"""Which channels let the bot listen, who switched them, and where it has already spoken.

Only ids and times are stored: nothing the bot hears is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.db.models import ListeningAudit, ListeningChannel, ListeningReply
from bot.db.session import Database
from bot.tickets.clock import utc_now


class ListeningStore:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def is_enabled(self, platform: str, channel_id: str) -> bool:
        async with self._db.transaction() as session:
            enabled = await session.scalar(
                select(ListeningChannel.enabled).where(
                    ListeningChannel.platform == platform, ListeningChannel.channel_id == channel_id
                )
            )
            return bool(enabled)

    async def set(self, platform: str, channel_id: str, enabled: bool, actor: str) -> None:
        """Switch listening on or off, and write who did it to the audit trail."""
        now = self._clock()
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(ListeningChannel).where(
                    ListeningChannel.platform == platform, ListeningChannel.channel_id == channel_id
                )
            )
            if row is None:
                row = ListeningChannel(platform=platform, channel_id=channel_id)
                session.add(row)
            row.enabled = enabled
            row.changed_by = actor
            row.changed_at = now
            session.add(
                ListeningAudit(
                    platform=platform, channel_id=channel_id, actor=actor,
                    action="on" if enabled else "off", at=now,
                )
            )  # fmt: skip

    async def audit(self, platform: str, channel_id: str) -> list[tuple[str, str, datetime]]:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(ListeningAudit.actor, ListeningAudit.action, ListeningAudit.at)
                .where(ListeningAudit.platform == platform, ListeningAudit.channel_id == channel_id)
                .order_by(ListeningAudit.id)
            )
            return [(actor, action, at) for actor, action, at in rows]

    async def claim_thread(
        self, platform: str, channel_id: str, thread_id: str, per_hour: int
    ) -> bool:
        """True if the bot may speak in this thread now: not before in it, and the channel
        under its hourly limit. Safe with several workers (a unique key on the thread)."""
        now = self._clock()
        async with self._db.transaction() as session:
            recent = await session.scalar(
                select(func.count()).where(
                    ListeningReply.platform == platform,
                    ListeningReply.channel_id == channel_id,
                    ListeningReply.at > now - timedelta(hours=1),
                )
            )
            if (recent or 0) >= per_hour:
                return False
        try:
            async with self._db.transaction() as session:
                session.add(
                    ListeningReply(
                        platform=platform, channel_id=channel_id, thread_id=thread_id, at=now
                    )
                )
        except IntegrityError:
            return False
        return True
