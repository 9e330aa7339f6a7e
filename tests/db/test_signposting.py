"""Signposting while waiting: a search request's confirmation offers links to search the
configured sources (site.yaml `search_links`) for the request's topic, over the real desk."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import pytest

from bot.config import Settings
from bot.db.session import Database
from bot.delivery.outbox import Outbox
from bot.desk.feedback import FeedbackStore
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.routing import RoutingService
from bot.desk.tickets.service import TicketService
from bot.messages import Platform, UserAction
from handlers.answers import Answerer
from handlers.desk import EvidenceDesk
from handlers.signposts import Signposts
from handlers.ticket_desk import TicketDesk
from knowledge import SHIPPED_KB_DIR
from knowledge.models import KnowledgeBase
from knowledge.store import KnowledgeStore
from tests.db.conftest import FakeClock
from tests.signed import TEST_SIGNER, form_state

WARD, THREAD = "C_WARD", "1700000000.000100"
VALID_NHS = "943 476 5919"


def make_desk(
    database: Database, clock: FakeClock, kb: KnowledgeBase | None = None
) -> EvidenceDesk:
    scanner = PrivacyScanner()
    store = KnowledgeStore.from_directory(SHIPPED_KB_DIR)
    knowledge = (lambda: kb) if kb is not None else (lambda: store.current.kb)
    return EvidenceDesk(
        answerer=Answerer(store, Settings(kb_dir=SHIPPED_KB_DIR)),
        requests=TicketDesk(
            TicketService(database, scanner, clock), RoutingService(database, clock),
            Outbox(database, clock), scanner, clock=clock, signposts=Signposts(knowledge),
            signer=TEST_SIGNER,
        ),
        feedback=FeedbackStore(database, scanner, "salt", clock),
        db=database,
    )  # fmt: skip


async def confirm(desk: EvidenceDesk, question: str, **extra: str) -> str:
    outcome = await desk.on_action(
        UserAction(
            platform=Platform.SLACK, user_id="U_REQ", action="request_submit", channel_id=WARD,
            thread_id=THREAD, form_state=form_state(WARD, THREAD),
            values=(("question", question), ("purpose", "research"), *extra.items()),
            event_id=f"ev-{question}",
        )
    )  # fmt: skip
    assert outcome.reply is not None, outcome
    return outcome.reply.text


@pytest.fixture
def shipped() -> KnowledgeBase:
    return KnowledgeStore.from_directory(SHIPPED_KB_DIR).current.kb


async def test_confirmation_links_to_a_hub_search_for_the_topic(
    database: Database, clock: FakeClock, shipped: KnowledgeBase
) -> None:
    text = await confirm(make_desk(database, clock), "falls prevention in care homes")
    hub = shipped.search_links[0]
    assert hub.name == "NHS Knowledge and Library Hub"
    encoded = "falls%20prevention%20in%20care%20homes"
    assert f"[NHS Knowledge and Library Hub]({hub.url_for(encoded)})" in text
    assert f"[PubMed](https://pubmed.ncbi.nlm.nih.gov/?term={encoded})" in text
    assert "While you wait, you can search for this topic yourself" in text


async def test_search_links_are_built_from_the_redacted_topic(
    database: Database, clock: FakeClock
) -> None:
    text = await confirm(
        make_desk(database, clock),
        f"falls for {VALID_NHS} on ward 3",
        privacy_ack="remove_and_send",
    )
    assert "Patient-identifiable details were removed" in text
    assert f"?term={quote('falls for on ward 3', safe='')})" in text
    assert "943" not in text
    assert "removed%5D" not in text


async def test_topic_characters_that_mean_something_in_a_url_are_encoded(
    database: Database, clock: FakeClock
) -> None:
    text = await confirm(make_desk(database, clock), "hip & knee #2 (adults)?")
    assert "?term=hip%20%26%20knee%20%232%20%28adults%29%3F)" in text


async def test_no_search_line_when_no_search_links_are_configured(
    database: Database, clock: FakeClock, shipped: KnowledgeBase
) -> None:
    desk = make_desk(database, clock, replace(shipped, search_links=()))
    text = await confirm(desk, "falls prevention in care homes")
    assert "Replies about it will come to this conversation." in text
    assert "While you wait" not in text
