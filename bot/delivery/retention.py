"""How long the bot keeps what people wrote and what it said to them, enforced every hour.

Every table that holds words (already redacted: bot/desk/privacy_gate.py) has a limit, so a
trust can say how long anything is kept without relying on someone to run a command:

- a request's free text (question, scope, messages, impact comments), `retention_days` after
  the ticket was closed or cancelled; its statuses, dates and audit trail stay for reports;
- the bot's delivered or abandoned messages (the outbox rows, whose payloads can quote a
  requester's words back) and the web chat's history, `message_retention_days` after they
  were last touched. A message still waiting to go is never deleted, nor a web card that a
  ticket may still update (it lives in `posted_messages`);
- unanswered questions (shown to admins to guide new KB entries), `unanswered_retention_days`
  after they were last asked.

The inbound journal forgets finished events on its own (bot/delivery/journal.py).
`evidence-desk privacy purge` runs the same clean-up on demand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult

from bot.clock import utc_now
from bot.config import Settings
from bot.db.models import OutboxMessage, PostedMessage, UnansweredQuestion, WebMessage
from bot.db.session import Database
from bot.desk.tickets.retention import purge_text_closed_before

#: Outbox rows in these states are finished with: nothing will send them again.
_FINISHED = ("sent", "failed")
_WEB = "web"


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of text is kept (from the settings)."""

    ticket_text: timedelta
    messages: timedelta
    unanswered: timedelta

    @classmethod
    def from_settings(
        cls, settings: Settings, *, ticket_text_days: int | None = None
    ) -> RetentionPolicy:
        return cls(
            ticket_text=timedelta(days=ticket_text_days or settings.retention_days),
            messages=timedelta(days=settings.message_retention_days),
            unanswered=timedelta(days=settings.unanswered_retention_days),
        )


@dataclass(frozen=True)
class Purged:
    """What one clean-up removed (counts only: what they held is gone)."""

    tickets: int = 0
    outbox: int = 0
    web_messages: int = 0
    unanswered: int = 0

    def __str__(self) -> str:
        return (
            f"purged the free text of {self.tickets} closed ticket(s); deleted "
            f"{self.outbox} delivered message(s), {self.web_messages} web chat message(s) and "
            f"{self.unanswered} unanswered question(s)"
        )


def _count(result: object) -> int:
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0


class Retention:
    """Deletes what has outlived the policy, in one transaction a kind."""

    def __init__(
        self, db: Database, policy: RetentionPolicy, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._db = db
        self.policy = policy
        self._clock = clock

    async def purge(self) -> Purged:
        now = self._clock()
        return Purged(
            tickets=await self._tickets(now),
            outbox=await self._outbox(now - self.policy.messages),
            web_messages=await self._web_messages(now - self.policy.messages),
            unanswered=await self._unanswered(now - self.policy.unanswered),
        )

    async def _tickets(self, now: datetime) -> int:
        async with self._db.transaction() as session:
            return await purge_text_closed_before(session, now - self.policy.ticket_text, now)

    async def _outbox(self, cutoff: datetime) -> int:
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.status.in_(_FINISHED), OutboxMessage.created_at < cutoff
                )
            )
        return _count(result)

    async def _web_messages(self, cutoff: datetime) -> int:
        async with self._db.transaction() as session:
            # Cards a ticket may still update: their web message must stay to be updated.
            cards = {
                int(message_id)
                for message_id in await session.scalars(
                    select(PostedMessage.message_id).where(PostedMessage.platform == _WEB)
                )
                if message_id.isdigit()
            }
            old = delete(WebMessage).where(WebMessage.updated_at < cutoff)
            if cards:
                old = old.where(WebMessage.id.not_in(cards))
            result = await session.execute(old)
        return _count(result)

    async def _unanswered(self, cutoff: datetime) -> int:
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(UnansweredQuestion).where(UnansweredQuestion.last_seen < cutoff)
            )
        return _count(result)
