"""The one way in: every platform's events are journalled, answered once, and their replies
queued in the transaction that marks them done.

Slack over HTTP, Slack over Socket Mode, Teams and the web chat all call this the same way,
after they have checked the request is authentic and translated it into a neutral
`InboundEvent`:

1. `accept` journals the event under (platform, event id) *before* the adapter acknowledges
   it, and says whether it is new. A redelivery (Slack's retry, the Bot Framework sending an
   activity again, a double-clicked web form) is acknowledged and skipped. If the journal
   cannot be written the adapter must refuse the event (503), so the platform sends it again.
2. `answer` runs the desk in one unit of work (bot/db/session.py): whatever the desk changes
   (a ticket, a relay to a specialist), the replies and notifications it queues in the outbox
   and the event marked done commit together or not at all. The outbox worker is woken by the
   commit itself.
3. A process that dies between 1 and 2 leaves the event journalled and unfinished; after its
   lease a live process replays it from the journal (`replay_stale`), through the same
   `answer`. The journal holds the neutral event, so replay needs nothing of the platform.

A bug while answering is logged with its trace and the person gets the generic apology
(queued like any answer), so the event is finished and not retried for ever. If even that
cannot be written (the database went away), the event stays in the journal and is replayed.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from pydantic import TypeAdapter

from bot.db.session import Database
from bot.db.sqlite_on_loop import statements_on_the_loop
from bot.delivery.backpressure import AnswerGate
from bot.delivery.journal import AlreadyFinished, InboundJournal
from bot.delivery.outbox import Destination, Outbox
from bot.messages import GENERIC_APOLOGY, IncomingMessage, Intent, Outcome, Reply, UserAction

log = logging.getLogger(__name__)


class Desk(Protocol):
    """What the inbox hands events to (handlers/desk.py's EvidenceDesk). A protocol, so the
    delivery layer sits below the handlers and does not import them."""

    async def on_message(self, message: IncomingMessage) -> Reply: ...

    async def on_overheard(self, message: IncomingMessage) -> Reply | None: ...

    async def on_action(self, action: UserAction) -> Outcome: ...

    def prepare(self, messages: Sequence[IncomingMessage]) -> None:
        """Blocking work for a batch done before its transaction, in a worker thread (the
        embeddings of the batch's messages, in one model run)."""


@dataclass(frozen=True)
class InboundEvent:
    """A platform event once translated: what was said (or pressed) and where answers go.

    `reply_to` is where a shared answer goes (the thread the question was asked in); a
    private one (a warning about patient details, an answer only the sender should see) goes
    to the same place made `visible_to` the sender. `overheard`: a channel message not
    addressed to the bot (listening mode, or a requester answering a specialist)."""

    platform: str
    event_id: str
    reply_to: Destination
    message: IncomingMessage | None = None
    action: UserAction | None = None
    overheard: bool = False
    #: A fixed reply the platform calls for (Teams' welcome when the bot is added).
    greeting: Reply | None = None

    @property
    def sender(self) -> str:
        if self.message is not None:
            return self.message.user_id
        return self.action.user_id if self.action is not None else ""


_EVENT: TypeAdapter[InboundEvent] = TypeAdapter(InboundEvent)


def deliveries(reply: Reply, reply_to: Destination, sender: str) -> list[tuple[Destination, Reply]]:
    """Where each part of a reply goes: the warning and an ephemeral reply to the sender
    alone, the rest to everyone in the conversation."""
    private = replace(reply_to, visible_to=sender or None)
    out: list[tuple[Destination, Reply]] = []
    if reply.warning:
        out.append(
            (
                private,
                Reply(
                    text=f"\u26a0\ufe0f {reply.warning}", intent=Intent.SMALLTALK, ephemeral=True
                ),
            )
        )
    shared = replace(reply, warning=None)
    out.append((private if reply.ephemeral else reply_to, shared))
    return out


#: The most events answered in one transaction.
MAX_BATCH: Final = 16


def _batchable(event: InboundEvent) -> bool:
    """Messages addressed to the bot. Clicks, greetings and overheard channel messages keep a
    transaction each: they are few, and their work is not worth repeating if a batch fails."""
    return event.message is not None and not event.overheard


@dataclass
class _Waiting:
    journal_id: int
    event: InboundEvent
    answered: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Inbox:
    """Journal, de-duplicate, answer in one transaction, replay: for every platform."""

    def __init__(
        self,
        db: Database,
        journal: InboundJournal,
        outbox: Outbox,
        desk: Desk,
        gate: AnswerGate,
    ) -> None:
        self._db = db
        self.journal = journal
        self._outbox = outbox
        self._desk = desk
        self.gate = gate
        #: Events waiting for the next batch, and the task answering batches while any wait.
        self._batch: list[_Waiting] = []
        self._batcher: asyncio.Task[None] | None = None

    async def accept(self, event: InboundEvent) -> int | None:
        """Journal the event; its journal id, or None when this event id was seen before.
        Raises what the database raised: the adapter must then refuse the event (503)."""
        payload: dict[str, Any] = _EVENT.dump_python(event, mode="json")
        return await self.journal.record(event.platform, event.event_id, payload)

    @statements_on_the_loop
    async def answer(self, journal_id: int, event: InboundEvent) -> None:
        """Answer a journalled message: the desk's work, its replies and the event marked
        done in one transaction (see the module docstring for failures).

        Messages addressed to the bot that are waiting while another batch is being answered
        are answered together, in one transaction (as the journal groups its inserts, see
        bot/delivery/group_commit.py): each event's work, replies and done mark still commit together,
        with the others'. A transaction per event cost more in statements, round trips and
        SQLite thread hops than the answering itself. If anything in a batch fails, nothing of
        it is committed and its events are answered one at a time, each as below."""
        if self.journal.handed_back(journal_id):
            return  # given back at shutdown: a peer answers it
        if _batchable(event) and await self._answer_in_batch(journal_id, event):
            return
        async with self.gate.answering():
            try:
                await self._answer(journal_id, event)
            except AlreadyFinished:
                log.info("inbound event %s was finished elsewhere; not answered again", journal_id)
            except Exception:
                log.exception("answering inbound event %s failed", journal_id)
                await self._apologise(journal_id, event)

    async def _answer_in_batch(self, journal_id: int, event: InboundEvent) -> bool:
        """Whether the event was answered (and finished) as part of a batch."""
        waiting = _Waiting(journal_id, event)
        self._batch.append(waiting)
        if self._batcher is None or self._batcher.done():
            # A fresh context: the batch is its own unit of work, never part of the unit of
            # work of whichever task happened to start the batcher.
            self._batcher = asyncio.create_task(
                self._answer_batches(), context=contextvars.Context()
            )
        return await waiting.answered

    @statements_on_the_loop
    async def _answer_batches(self) -> None:
        # A batch takes one place at the answer gate (bot/delivery/backpressure.py), not one per event:
        # the events in it wait on a future, taking no turns on the event loop, and the batch
        # yields between its events, so acknowledgements are not held up by its size.
        while self._batch:
            batch: list[_Waiting] = []
            try:
                async with self.gate.answering():
                    batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
                    await self._answer_together(batch)
                answered = True
            except Exception:
                log.debug("a batch of %s events failed; answering them one at a time", len(batch))
                answered = False
            except BaseException:
                for waiting in [*batch, *self._batch]:
                    waiting.answered.cancel()
                raise
            for waiting in batch:
                if not waiting.answered.done():
                    waiting.answered.set_result(answered)

    async def _prepare(self, events: list[InboundEvent]) -> None:
        """Embed the messages' texts in one batch, in a worker thread, before the transaction
        opens: the model is most of an answer's CPU and releases the GIL, so acknowledgements
        (and the journal's commits) go on while it runs, and no transaction is held open
        meanwhile. Answering finds the vectors ready; without them it makes its own."""
        messages = [e.message for e in events if e.message is not None and not e.overheard]
        if not messages:
            return
        try:
            await asyncio.to_thread(self._desk.prepare, messages)
        except Exception:
            log.debug("preparing %s messages failed; each is embedded as it is answered",
                      len(messages), exc_info=True)  # fmt: skip

    async def _answer_together(self, batch: list[_Waiting]) -> None:
        await self._prepare([waiting.event for waiting in batch])
        async with self._db.unit_of_work() as session:
            async with self._outbox.batched(session) as answers:
                for waiting in batch:
                    # Answering is CPU work with no wait in it: let acknowledgements in between.
                    await asyncio.sleep(0)
                    reply, target = await self._reply(waiting.event)
                    if reply is not None:
                        for destination, part in deliveries(reply, target, waiting.event.sender):
                            await answers.add(destination, part)
            await self.journal.finish_all_in(session, [waiting.journal_id for waiting in batch])

    async def _answer(self, journal_id: int, event: InboundEvent) -> None:
        await self._prepare([event])
        async with self._db.unit_of_work() as session:
            reply, target = await self._reply(event)
            if reply is not None:
                for destination, part in deliveries(reply, target, event.sender):
                    self._outbox.add(session, destination, part)
            await self.journal.finish_in(session, journal_id)

    async def _reply(self, event: InboundEvent) -> tuple[Reply | None, Destination]:
        if event.message is not None:
            if event.overheard:
                return await self._desk.on_overheard(event.message), event.reply_to
            return await self._desk.on_message(event.message), event.reply_to
        if event.action is not None:
            # A click replayed after a crash: a form can no longer be shown, a reply can.
            outcome = await self._desk.on_action(event.action)
            return outcome.reply, outcome.reply_to or event.reply_to
        return event.greeting, event.reply_to

    async def _apologise(self, journal_id: int, event: InboundEvent) -> None:
        if event.overheard:  # never an apology for a post that was not addressed to the bot
            await self._finish_quietly(journal_id)
            return
        apology = Reply(text=GENERIC_APOLOGY, intent=Intent.UNKNOWN)
        try:
            async with self._db.unit_of_work() as session:
                self._outbox.add(session, event.reply_to, apology)
                await self.journal.finish_in(session, journal_id)
        except AlreadyFinished:
            pass
        except Exception:
            # The database is gone too: the event stays journalled and is replayed later.
            log.exception("could not finish inbound event %s; it will be replayed", journal_id)

    async def _finish_quietly(self, journal_id: int) -> None:
        try:
            await self.journal.finish(journal_id)
        except Exception:
            log.exception("could not finish inbound event %s; it will be replayed", journal_id)

    @statements_on_the_loop
    async def act(
        self, action: UserAction, reply_to: Destination | None, journal_id: int | None = None
    ) -> Outcome:
        """Do what a button or form means, in one unit of work. A shared reply (a ticket's
        confirmation in the requester's thread) is queued with the state change when
        `reply_to` is given, and left out of the returned outcome; what is returned is only
        for the person who acted (a form again, a private note), shown by the adapter at once.
        With `journal_id` (the click was journalled, as Teams' are) it is marked done in the
        same transaction."""
        async with self.gate.answering(), self._db.unit_of_work() as session:
            outcome = await self._desk.on_action(action)
            reply, target = outcome.reply, outcome.reply_to or reply_to
            if target is not None and reply is not None and not reply.ephemeral:
                for destination, part in deliveries(reply, target, action.user_id):
                    self._outbox.add(session, destination, part)
                outcome = replace(outcome, reply=None, queued=True)
            if journal_id is not None:
                await self.journal.finish_in(session, journal_id)
            return outcome

    @statements_on_the_loop
    async def tell(self, reply: Reply, reply_to: Destination, sender: str) -> None:
        """Queue a reply that changes nothing else (an answer to a slash command that has no
        response URL): through the outbox, so an outage delays it and loses nothing."""
        async with self._db.transaction() as session:
            for destination, part in deliveries(reply, reply_to, sender):
                self._outbox.add(session, destination, part)

    async def replay_stale(self) -> int:
        """Answer the events a dead process acknowledged but never finished."""
        replayed = 0
        for journal_id, _platform, payload in await self.journal.claim_stale():
            try:
                event = _EVENT.validate_python(payload)
            except ValueError:
                log.warning("inbound event %s is not a journalled event; dropped", journal_id)
                await self._finish_quietly(journal_id)
                continue
            await self.answer(journal_id, event)
            replayed += 1
        return replayed
