"""`build_services(settings)`: the one place the desk and its services are made.

The server (`bot.app.create_app`), the terminal chat and the tests all run the same desk, so
they get it from here rather than wiring the core again each in its own way: what a test
drives is what the server runs. Nothing here knows aiohttp or any chat platform; the server
adds its web routes and adapters on top, and starts the background work.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.config import Settings
from bot.db.session import Database
from bot.delivery.backpressure import AnswerGate
from bot.delivery.inbox import Inbox
from bot.delivery.journal import InboundJournal
from bot.delivery.outbox import Destination, MessengerRegistry, Outbox, OutboxWorker
from bot.desk.feedback import FeedbackStore
from bot.desk.listening_store import ListeningStore
from bot.desk.tickets.routing import RoutingService
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.views import TicketView
from bot.metrics import Metrics
from bot.signing import Signer
from handlers.desk import EvidenceDesk
from handlers.listening import Listener
from handlers.router import Router
from handlers.signposts import Signposts
from handlers.strategy import StrategyStarter
from handlers.strategy import from_ticket as strategy_from_ticket
from handlers.ticket_desk import TicketDesk
from knowledge.embeddings import load_embedder
from knowledge.mesh import MeshUnavailable, load_mesh
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


def _strategist() -> Callable[[TicketView], StrategyStarter] | None:
    """The search-strategy starter's builder, with MeSH loaded now (a few seconds, once a
    process, like the embedding model) so no request waits for it; None without MeSH."""
    try:
        load_mesh()
    except MeshUnavailable as exc:
        log.warning("no search-strategy starters: %s", exc)
        return None
    return strategy_from_ticket


@dataclass(frozen=True)
class Services:
    """Everything the desk runs on, made once per process (or per test)."""

    settings: Settings
    knowledge: KnowledgeStore
    database: Database
    router: Router
    tickets: TicketService
    outbox: Outbox
    signer: Signer
    requests: TicketDesk
    desk: EvidenceDesk
    journal: InboundJournal
    gate: AnswerGate
    inbox: Inbox
    messengers: MessengerRegistry
    worker: OutboxWorker
    metrics: Metrics


def general_queue(settings: Settings) -> Destination | None:
    """Where requests from unrouted channels go (`PLATFORM:CHANNEL`), if anywhere."""
    if not settings.general_queue:
        return None
    platform, _, channel = settings.general_queue.partition(":")
    return Destination(platform, channel)


def build_services(
    settings: Settings,
    *,
    knowledge: KnowledgeStore | None = None,
    metrics: Metrics | None = None,
) -> Services:
    """The desk and what it needs, from one `Settings`; a KB store may be given (tests share
    one, since loading the embedding model costs seconds)."""
    store = knowledge or KnowledgeStore.from_directory(
        settings.kb_dir, embedder=load_embedder(settings.embedding_model)
    )
    metrics = metrics or Metrics()
    db = Database.from_url(settings.database_url)
    router = Router(store, settings)
    tickets = TicketService.from_settings(db, settings)
    outbox = Outbox(db, lease=timedelta(seconds=settings.outbox_lease_seconds))
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    signer = Signer.from_secret(secret)  # signs web chat identities and request forms' state
    requests = TicketDesk(
        tickets,
        RoutingService(db),
        outbox,
        router.scanner,
        general_queue=general_queue(settings),
        signposts=Signposts(lambda: store.current.kb),
        signer=signer,
        unrouted=lambda reference: metrics.unrouted.inc(),
        strategist=_strategist(),
    )
    salt = settings.feedback_salt or secrets.token_hex(16)
    if settings.feedback_salt is None:
        log.warning("EVIDENCE_DESK_FEEDBACK_SALT is not set; using a random one for this process")
    listener = Listener(
        router, ListeningStore(db), settings.unasked_threshold, settings.listen_replies_per_hour
    )
    desk = EvidenceDesk(
        router,
        requests,
        FeedbackStore(db, router.scanner, salt),
        db,
        listener,
        answered=lambda intent: metrics.answers.labels(intent).inc(),
    )
    journal = InboundJournal(
        db, router.scanner, lease=timedelta(seconds=settings.inbound_lease_seconds)
    )
    gate = AnswerGate(settings.answer_concurrency)
    inbox = Inbox(db, journal, outbox, desk, gate)
    messengers = MessengerRegistry()
    worker = OutboxWorker(outbox, messengers, settings.outbox_interval_seconds)
    return Services(
        settings=settings,
        knowledge=store,
        database=db,
        router=router,
        tickets=tickets,
        outbox=outbox,
        signer=signer,
        requests=requests,
        desk=desk,
        journal=journal,
        gate=gate,
        inbox=inbox,
        messengers=messengers,
        worker=worker,
        metrics=metrics,
    )
