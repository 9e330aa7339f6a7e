"""Which channels let the bot listen, who switched them, and where it has already spoken.

Only ids and times are stored: nothing the bot hears is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.clock import utc_now
from bot.db.models import EXTERNAL_ID_LEN as EXTERNAL_ID_LEN  # the admin form checks ids by it
from bot.db.models import ConversationRef, ListeningAudit, ListeningChannel, ListeningReply, Route
from bot.db.session import Database

#: The platforms whose channels can listen; the web chat is one person talking to the bot.
LISTENING_PLATFORMS: Final = ("slack", "teams")


@dataclass(frozen=True)
class ChannelState:
    """A channel someone has switched, with the latest switch: the console lists these."""

    platform: str
    channel_id: str
    enabled: bool
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    platform: str
    channel_id: str
    actor: str
    action: str  # on | off
    at: datetime


@dataclass(frozen=True)
class KnownChannel:
    """A channel the bot knows of but nobody has switched yet, so the console can offer it
    rather than make an admin find and paste its id. `source` says how it is known."""

    platform: str
    channel_id: str
    source: str  # "seen" (a Teams channel the bot was spoken to in) | "route"


class ListeningStore:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def is_enabled(self, platform: str, channel_id: str) -> bool:
        async with self._db.read() as session:
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

    async def channels(self) -> list[ChannelState]:
        """Every channel ever switched, on first, then the most recently changed. A channel not
        here has never been switched and is off."""
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(ListeningChannel).order_by(
                    ListeningChannel.enabled.desc(),
                    ListeningChannel.changed_at.desc(),
                    ListeningChannel.id.desc(),
                )
            )
            return [
                ChannelState(r.platform, r.channel_id, r.enabled, r.changed_by, r.changed_at)
                for r in rows
            ]

    async def recent_audit(self, per_channel: int = 10) -> dict[tuple[str, str], list[AuditEntry]]:
        """Each channel's latest `per_channel` switches, newest first, keyed by (platform,
        channel id): one query however many channels, and a busy channel cannot crowd out the
        others' history."""
        ranked = select(
            ListeningAudit,
            func.row_number()
            .over(
                partition_by=(ListeningAudit.platform, ListeningAudit.channel_id),
                order_by=ListeningAudit.id.desc(),
            )
            .label("rank"),
        ).subquery()
        audit = ranked.c
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(audit.platform, audit.channel_id, audit.actor, audit.action, audit.at)
                .where(audit.rank <= per_channel)
                .order_by(audit.platform, audit.channel_id, audit.id.desc())
            )
            trail: dict[tuple[str, str], list[AuditEntry]] = {}
            for platform, channel_id, actor, action, at in rows:
                entry = AuditEntry(platform, channel_id, actor, action, at)
                trail.setdefault((platform, channel_id), []).append(entry)
            return trail

    async def known_channels(self) -> list[KnownChannel]:
        """Slack and Teams channels the bot knows of and nobody has switched: Teams channels it
        has a conversation reference for (Slack keeps no such record), and channels with a
        request route."""
        switched = select(ListeningChannel.id).where(
            ListeningChannel.platform == ConversationRef.platform,
            ListeningChannel.channel_id == ConversationRef.conversation_id,
        )
        conversation_type = ConversationRef.reference["conversation"]["conversationType"]
        async with self._db.transaction() as session:
            seen = await session.execute(
                select(ConversationRef.platform, ConversationRef.conversation_id)
                .where(
                    ConversationRef.platform == "teams",
                    conversation_type.as_string() == "channel",
                    ~switched.exists(),
                )
                .distinct()
            )
            routed = await session.execute(
                select(Route.platform, Route.channel_id).where(
                    Route.platform.in_(LISTENING_PLATFORMS),
                    ~select(ListeningChannel.id)
                    .where(
                        ListeningChannel.platform == Route.platform,
                        ListeningChannel.channel_id == Route.channel_id,
                    )
                    .exists(),
                )
            )
            known: dict[tuple[str, str], KnownChannel] = {}
            for platform, channel_id in seen:
                known[(platform, channel_id)] = KnownChannel(platform, channel_id, "seen")
            for platform, channel_id in routed:
                known.setdefault(
                    (platform, channel_id), KnownChannel(platform, channel_id, "route")
                )
            return sorted(known.values(), key=lambda k: (k.platform, k.channel_id))

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
