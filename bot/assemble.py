"""`assemble_desk`: the whole neutral core, built from settings one way for every caller.

The server (bot/app.py), the terminal chat (bot/local_chat.py) and the dialogue tests
(tests/dialogue.py) all get their desk here, so what the terminal and the tests talk to is
what Slack, Teams and the web chat talk to: the same answerer, ticket desk, feedback store
and listening mode, wired the same way.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta

from bot.config import Settings
from bot.db.session import Database
from bot.feedback import FeedbackStore
from bot.listening import ListeningStore
from bot.outbox import Destination, Outbox
from bot.signing import Signer
from bot.tickets.clock import utc_now
from bot.tickets.routing import RoutingService
from bot.tickets.service import TicketService
from handlers.answers import Answerer
from handlers.desk import EvidenceDesk
from handlers.listening import Listener
from handlers.requests import RequestDesk
from handlers.signposts import Signposts
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


def general_queue(settings: Settings) -> Destination | None:
    """EVIDENCE_DESK_GENERAL_QUEUE ("platform:channel") as a destination."""
    if not settings.general_queue:
        return None
    platform, _, channel = settings.general_queue.partition(":")
    return Destination(platform, channel)


def assemble_desk(
    settings: Settings,
    db: Database,
    store: KnowledgeStore,
    *,
    signer: Signer,
    clock: Callable[[], datetime] = utc_now,
    today: Callable[[], date] = date.today,
) -> EvidenceDesk:
    """The desk on this database and KB. `clock` and `today` are the tests' to move; the
    outbox the desk queues into is `desk.requests.outbox` (the inbox must use the same one,
    so that a commit wakes the worker that delivers it)."""
    answerer = Answerer(store, settings, today=today)
    outbox = Outbox(db, clock, lease=timedelta(seconds=settings.outbox_lease_seconds))
    requests = RequestDesk(
        TicketService.from_settings(db, settings, clock),
        RoutingService(db, clock),
        outbox,
        answerer.scanner,
        general_queue=general_queue(settings),
        clock=clock,
        signposts=Signposts(lambda: store.current.kb),
        signer=signer,
    )
    salt = settings.feedback_salt
    if salt is None:
        log.warning("EVIDENCE_DESK_FEEDBACK_SALT is not set; using a random one for this process")
        salt = secrets.token_hex(16)
    listener = Listener(
        answerer,
        ListeningStore(db, clock),
        settings.unasked_threshold,
        settings.listen_replies_per_hour,
    )
    feedback = FeedbackStore(db, answerer.scanner, salt, clock)
    return EvidenceDesk(answerer, requests, feedback, db, listener)
