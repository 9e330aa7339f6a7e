"""The web chat's messenger: what the outbox sends is stored, edits bump the revision, and
the page's poll gets new and edited messages."""

from __future__ import annotations

import pytest

from bot.config.web import WebSettings
from bot.db.session import Database
from bot.delivery.outbox import DeliveryError, Destination, MessengerRegistry, Outbox
from bot.delivery.web_messages import WebMessenger
from bot.desk.tickets.routing import RoutingService
from bot.messages import Intent, Reply
from bot.platforms.web.demo import ensure_demo_team
from tests.db.conftest import FakeClock


async def test_posted_messages_are_polled_by_conversation_and_thread(
    database: Database, clock: FakeClock
) -> None:
    messenger = WebMessenger(database, clock)
    first = await messenger.post(Destination("web", "web-chat", "t1"), Reply("one", Intent.FAQ))
    await messenger.post(Destination("web", "web-chat", "t2"), Reply("other", Intent.FAQ))
    await messenger.post(Destination("web", "elsewhere"), Reply("no", Intent.FAQ))
    mine = await messenger.messages("web-chat", thread="t1")
    assert [m.reply.text for m in mine] == ["one"]
    everything = await messenger.messages("web-chat")
    assert [m.reply.text for m in everything] == ["one", "other"]
    assert await messenger.messages("web-chat", thread="t1", after=int(first)) == []


async def test_an_update_rewrites_the_message_and_the_next_poll_sees_it(
    database: Database, clock: FakeClock
) -> None:
    messenger = WebMessenger(database, clock)
    destination = Destination("web", "specialist")
    message_id = await messenger.post(destination, Reply("card: new", Intent.SEARCH_REQUEST))
    polled_at = clock()
    clock.advance(seconds=30)
    await messenger.update(destination, message_id, Reply("card: claimed", Intent.SEARCH_REQUEST))
    (changed,) = await messenger.messages("specialist", after=int(message_id), since=polled_at)
    assert (changed.reply.text, changed.revision) == ("card: claimed", 2)
    with pytest.raises(DeliveryError):
        await messenger.update(destination, "999999", Reply("x", Intent.FAQ))


async def test_the_outbox_delivers_to_the_web_messenger(database: Database) -> None:
    messenger = WebMessenger(database)
    outbox = Outbox(database)
    await outbox.enqueue(Destination("web", "web-chat", "t1"), Reply("hello", Intent.SMALLTALK))
    assert await outbox.deliver_due(MessengerRegistry(web=messenger)) == 1
    (message,) = await messenger.messages("web-chat", thread="t1")
    assert message.reply.text == "hello"


async def test_demo_mode_makes_a_specialist_and_routes_the_chat_to_them_once(
    database: Database,
) -> None:
    settings = WebSettings(demo=True)
    assert await ensure_demo_team(database, settings)
    assert not await ensure_demo_team(database, settings)
    routing = RoutingService(database)
    specialist = await routing.specialist_for("web", "specialist")
    route = await routing.route_for("web", "web-chat")
    assert specialist is not None and route is not None
    assert route.specialist_ids == (specialist.id,)
    assert (route.notify_platform, route.notify_channel_id) == ("web", "specialist")


async def test_outside_demo_mode_nothing_is_created(database: Database) -> None:
    assert not await ensure_demo_team(database, WebSettings(demo=False))
    assert await RoutingService(database).list_specialists(include_inactive=True) == ()
