"""The whole desk in one process, with no chat service: the terminal chat and the dialogue tests.

What a person says here goes the way every platform's messages go: journalled and answered by
the core inbox (bot/delivery/inbox.py), its replies queued in the outbox in the same transaction, then
delivered by the outbox to this platform's messenger, `LocalMessenger`, which keeps each
delivery (and hands it to whoever shows it: the terminal prints it). Buttons and forms go
through `Inbox.act`, as the web chat's do. Nothing is special-cased, so a request filed here
reaches a specialist's queue, a specialist's question comes back, a reply is relayed and
listening mode listens, as on Slack or Teams.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

from bot.db.session import Database
from bot.delivery.inbox import InboundEvent
from bot.delivery.outbox import DeliveryError, Destination
from bot.messages import IncomingMessage, Outcome, Platform, Reply, UserAction
from bot.services import assemble_inbox
from handlers.desk import EvidenceDesk

#: The platform name this process speaks for: the terminal's.
PLATFORM = Platform.CLI


@dataclass(frozen=True)
class Delivery:
    """One message the outbox delivered here. `edit`: a new version of an earlier message
    (a ticket's card, re-rendered when the ticket changed), under the same `message_id`."""

    message_id: str
    destination: Destination
    reply: Reply
    edit: bool = False


class LocalMessenger:
    """The local platform's `Messenger`: every post and update, kept in order."""

    def __init__(self, shown: Callable[[Delivery], None] | None = None) -> None:
        self.deliveries: list[Delivery] = []
        #: Told of each delivery as it is made (the terminal prints it).
        self.shown = shown
        self._posted: set[str] = set()

    def _keep(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        if self.shown is not None:
            self.shown(delivery)

    async def post(self, destination: Destination, reply: Reply) -> str:
        message_id = f"local-{uuid4().hex[:12]}"
        self._posted.add(message_id)
        self._keep(Delivery(message_id, destination, reply))
        return message_id

    async def update(self, destination: Destination, message_id: str, reply: Reply) -> None:
        if message_id not in self._posted:
            # Posted by another process (this database is shared): not ours to show again.
            raise DeliveryError(f"message {message_id} was not posted here", permanent=True)
        self._keep(Delivery(message_id, destination, reply, edit=True))


class LocalChat:
    """Say things and press buttons as anyone, on any conversation; get back what was
    delivered. Delivery is driven here (`deliver`), not by a background worker, so each turn
    returns everything it caused."""

    def __init__(
        self,
        desk: EvidenceDesk,
        db: Database,
        messenger: LocalMessenger | None = None,
        *,
        answer_concurrency: int = 4,
    ) -> None:
        self.desk = desk
        self.messenger = messenger or LocalMessenger()
        self._outbox = desk.requests.outbox  # the one the desk queues into
        self.inbox = assemble_inbox(db, desk, answer_concurrency)

    async def say(
        self,
        user: str,
        text: str,
        *,
        conversation: str,
        thread: str | None = None,
        direct: bool = False,
        addressed: bool = True,
        user_name: str | None = None,
    ) -> list[Delivery]:
        """A message from `user`; `addressed` False: said in a channel without naming the bot
        (listening mode, or a requester answering a specialist in the thread)."""
        message_id = uuid4().hex[:12]
        message = IncomingMessage(
            PLATFORM,
            user,
            text,
            conversation_id=conversation,
            thread_id=thread,
            message_id=message_id,
            user_name=user_name,
            is_direct=direct,
        )
        event = InboundEvent(
            str(PLATFORM),
            f"{conversation}|{message_id}",
            Destination(str(PLATFORM), conversation, thread),
            message,
            overheard=not addressed,
        )
        journal_id = await self.inbox.accept(event)
        if journal_id is not None:
            await self.inbox.answer(journal_id, event)
        return await self.deliver()

    async def act(
        self,
        user: str,
        action: str,
        *,
        conversation: str,
        value: str = "",
        thread: str | None = None,
        values: tuple[tuple[str, str], ...] = (),
        form_state: str = "",
        user_name: str | None = None,
    ) -> tuple[Outcome, list[Delivery]]:
        """A button pressed or a form submitted: what only the person who acted sees (a form,
        a private note) comes back in the outcome; everything shared comes as deliveries."""
        pressed = UserAction(
            PLATFORM,
            user,
            action,
            value=value,
            user_name=user_name,
            channel_id=conversation,
            thread_id=thread,
            values=values,
            form_state=form_state,
            event_id=f"local:{uuid4().hex}",
        )
        outcome = await self.inbox.act(pressed, Destination(str(PLATFORM), conversation, thread))
        return outcome, await self.deliver()

    async def deliver(self) -> list[Delivery]:
        """Deliver what is due for this platform until nothing more is; what was delivered."""
        start = len(self.messenger.deliveries)
        messengers = {str(PLATFORM): self.messenger}
        while await self._outbox.deliver_due(messengers, only_platforms=messengers):
            pass
        return self.messenger.deliveries[start:]
