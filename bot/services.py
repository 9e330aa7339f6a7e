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
from datetime import date, datetime, timedelta

from bot.clock import utc_now
from bot.config import Settings
from bot.db.session import Database
from bot.delivery.backpressure import AnswerGate
from bot.delivery.inbox import Inbox
from bot.delivery.journal import InboundJournal
from bot.delivery.outbox import Destination, MessengerRegistry, Outbox, OutboxWorker
from bot.desk.feedback import FeedbackStore
from bot.desk.kb_sync import KbSync
from bot.desk.kb_versions import KbVersions
from bot.desk.listening_store import ListeningStore
from bot.desk.tickets.routing import RoutingService
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.views import TicketView
from bot.metrics import Metrics
from bot.signing import Signer
from handlers.answers import Answerer
from handlers.desk import EvidenceDesk
from handlers.listening import Listener
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
    #: Keeps `knowledge` on the latest published version, else the files (bot.desk.kb_sync).
    kb_sync: KbSync
    database: Database
    answerer: Answerer
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
    """EVIDENCE_DESK_GENERAL_QUEUE ("platform:channel"): where requests from unrouted
    channels go and unclaimed ones escalate, if anywhere."""
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
    strategist: Callable[[TicketView], StrategyStarter] | None = None,
    metrics: Metrics | None = None,
) -> EvidenceDesk:
    """The desk on this database and KB, wired one way for the server, the terminal chat and
    the dialogue tests. `clock` and `today` are the tests' to move; the outbox the desk
    queues into is `desk.requests.outbox` (the inbox must use the same one, so that a commit
    wakes the worker that delivers it)."""
    answerer = Answerer(store, settings, today=today)
    outbox = Outbox(db, clock, lease=timedelta(seconds=settings.outbox_lease_seconds))
    requests = TicketDesk(
        TicketService.from_settings(db, settings, clock),
        RoutingService(db, clock),
        outbox,
        answerer.scanner,
        general_queue=general_queue(settings),
        clock=clock,
        signposts=Signposts(lambda: store.current.kb),
        signer=signer,
        strategist=strategist,
        unrouted=(lambda reference: metrics.unrouted.inc()) if metrics else _ignore,
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
    return EvidenceDesk(
        answerer,
        requests,
        feedback,
        db,
        listener,
        answered=(lambda intent: metrics.answers.labels(intent).inc()) if metrics else _ignore,
    )


def assemble_inbox(
    db: Database, desk: EvidenceDesk, answer_concurrency: int, lease: timedelta | None = None
) -> Inbox:
    """The core inbox in front of a desk: its journal, its answer gate, and the desk's own
    outbox (so a commit wakes the worker that delivers what the desk queued)."""
    journal = (
        InboundJournal(db, desk.answerer.scanner, lease=lease)
        if lease is not None
        else InboundJournal(db, desk.answerer.scanner)
    )
    return Inbox(db, journal, desk.requests.outbox, desk, AnswerGate(answer_concurrency))


def _ignore(_: str) -> None:
    """No one is counting (the terminal chat, tests)."""


def build_services(
    settings: Settings,
    *,
    knowledge: KnowledgeStore | None = None,
    metrics: Metrics | None = None,
) -> Services:
    """The desk and what it needs, from one `Settings`; a KB store may be given (tests share
    one, since loading the embedding model costs seconds)."""
    store = knowledge or KnowledgeStore.from_directory(
        settings.kb_dir,
        embedder=load_embedder(
            settings.embedding_model, settings.cache_dir, settings.embedding_compute
        ),
    )
    metrics = metrics or Metrics()
    db = Database.from_url(settings.database_url)
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    signer = Signer.from_secret(secret)  # signs web chat identities and request forms' state
    desk = assemble_desk(
        settings, db, store, signer=signer, strategist=_strategist(), metrics=metrics
    )
    requests, outbox = desk.requests, desk.requests.outbox
    journal = InboundJournal(
        db, desk.answerer.scanner, lease=timedelta(seconds=settings.inbound_lease_seconds)
    )
    gate = AnswerGate(settings.answer_concurrency)
    inbox = Inbox(db, journal, outbox, desk, gate)
    messengers = MessengerRegistry()
    worker = OutboxWorker(outbox, messengers, settings.outbox_interval_seconds)
    return Services(
        settings=settings,
        knowledge=store,
        kb_sync=KbSync(KbVersions(db, files=settings.kb_dir), store),
        database=db,
        answerer=desk.answerer,
        tickets=requests.tickets,
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
