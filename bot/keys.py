"""The typed keys under which the server keeps its shared services (`app[DESK]`, ...).

They live here, below everything that uses them, so the platform adapters can read the
core's services without importing `bot.app` (which imports the adapters to mount them):
no import cycle, and nothing but the entry points imports the module that wires it all.
Keys private to one adapter (its SDK objects) stay in that adapter's package.
"""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from bot.db.session import Database
from bot.delivery.backpressure import AnswerGate
from bot.delivery.inbox import Inbox
from bot.delivery.journal import InboundJournal
from bot.delivery.outbox import MessengerRegistry, Outbox, OutboxWorker
from bot.desk.kb_sync import KbSync
from bot.signing import Signer
from handlers.answers import Answerer
from handlers.desk import EvidenceDesk
from knowledge.store import KnowledgeStore

SETTINGS = web.AppKey("settings", Settings)
KNOWLEDGE = web.AppKey("knowledge", KnowledgeStore)
ANSWERER = web.AppKey("answerer", Answerer)
KB_SYNC = web.AppKey("kb_sync", KbSync)
DATABASE = web.AppKey("database", Database)
OUTBOX = web.AppKey("outbox", Outbox)
DESK = web.AppKey("desk", EvidenceDesk)
MESSENGERS = web.AppKey("messengers", MessengerRegistry)
WORKER = web.AppKey("outbox_worker", OutboxWorker)
JOURNAL = web.AppKey("inbound_journal", InboundJournal)
INBOX = web.AppKey("inbox", Inbox)
ANSWER_GATE = web.AppKey("answer_gate", AnswerGate)
SCHEMA_HEAD = web.AppKey("schema_head", str)
SIGNER = web.AppKey("signer", Signer)
