"""A messenger that records what the outbox hands it, for the tests of the core's delivery."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.delivery.outbox import DeliveryError, Destination
from bot.messages import Reply


@dataclass
class RecordingMessenger:
    """Stands in for a platform's API at the port; the wire-level fakes live with the adapters."""

    failures: list[DeliveryError] = field(default_factory=list)
    posts: list[tuple[Destination, str]] = field(default_factory=list)
    updates: list[tuple[str, str]] = field(default_factory=list)

    async def post(self, destination: Destination, reply: Reply) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.posts.append((destination, reply.text))
        return f"ts-{len(self.posts)}"

    async def update(self, destination: Destination, message_id: str, reply: Reply) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.updates.append((message_id, reply.text))
