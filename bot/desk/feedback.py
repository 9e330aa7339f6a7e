"""What the admins learn from: "did this help?" votes and the questions the KB could not answer.

People are stored as salted hashes so feedback can be counted per person without keeping who
they are; unanswered questions are stored redacted and grouped by their normalised text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import utc_now
from bot.db.models import FaqFeedback, UnansweredQuestion
from bot.db.session import Database
from bot.desk.privacy import PrivacyScanner

_SPACES = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class UnansweredView:
    text: str
    count: int
    last_seen: datetime


class FeedbackStore:
    def __init__(
        self,
        db: Database,
        scanner: PrivacyScanner,
        salt: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._scanner = scanner
        self._salt = salt
        self._clock = clock

    def _user_hash(self, platform: str, user_id: str) -> str:
        return hashlib.sha256(f"{self._salt}:{platform}:{user_id}".encode()).hexdigest()

    async def record_vote(self, faq_id: str, helpful: bool, platform: str, user_id: str) -> None:
        """Count a vote. The FAQ id comes back from a button, which a client can fill with
        anything, so it is scanned like any other text before it is stored."""
        faq_id = self._scanner.redact(faq_id)[:200]
        async with self._db.transaction() as session:
            session.add(
                FaqFeedback(
                    faq_id=faq_id,
                    helpful=helpful,
                    platform=platform,
                    user_hash=self._user_hash(platform, user_id),
                    at=self._clock(),
                )
            )

    async def record_unanswered(self, text: str) -> None:
        """Count a question the bot could not answer; identifiers are removed before storage."""
        safe = self._scanner.redact(text)[:1000]
        key = _SPACES.sub(" ", safe.lower()).strip()[:1000]
        if not key:
            return
        try:
            await self._count(safe, key)
        except IntegrityError:
            # Another worker inserted the same question first; now it exists, so count on it.
            await self._count(safe, key)

    async def _count(self, safe: str, key: str) -> None:
        now = self._clock()
        async with self._db.transaction() as session:
            result = await session.execute(
                update(UnansweredQuestion)
                .where(UnansweredQuestion.normalized_text == key)
                .values(count=UnansweredQuestion.count + 1, last_seen=now)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                session.add(
                    UnansweredQuestion(
                        text=safe, normalized_text=key, count=1, first_seen=now, last_seen=now
                    )
                )

    async def unanswered(self, limit: int = 50) -> list[UnansweredView]:
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(UnansweredQuestion)
                .order_by(UnansweredQuestion.count.desc(), UnansweredQuestion.last_seen.desc())
                .limit(limit)
            )
            return [UnansweredView(r.text, r.count, r.last_seen) for r in rows]
