"""The admin console's Listening page over HTTP, on both databases: who may use it, switching
a channel on and off (the same store and audit trail as `listen on|off` in chat), CSRF, and
the channel ids it refuses."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.db.session import Database
from bot.delivery.conversation_refs import ConversationStore
from bot.desk.listening_store import ListeningStore
from bot.keys import DESK
from tests.db.conftest import FakeClock
from tests.web_admin import EMAIL, csrf_of, sign_in

SLACK_CHANNEL = "C0123ABCD"
TEAMS_CHANNEL = "19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2"
ADMIN_ACTOR = f"web:{EMAIL}"


async def console_token(client: TestClient[Any, Any]) -> str:
    await sign_in(client)
    page = await client.get("/admin/listening")
    assert page.status == 200
    return csrf_of(await page.text())


async def switch(
    client: TestClient[Any, Any], token: str, platform: str, channel: str, state: str
) -> Any:
    return await client.post(
        "/admin/listening",
        data={"platform": platform, "channel": channel, "state": state, "csrf_token": token},
        allow_redirects=False,
    )


async def test_the_listening_page_needs_an_admin_login(client: TestClient[Any, Any]) -> None:
    anonymous = await client.get("/admin/listening", allow_redirects=False)
    assert anonymous.status == 303
    assert anonymous.headers["Location"] == "/admin/login?next=/admin/listening"
    refused = await client.post(
        "/admin/listening", data={"platform": "slack", "channel": SLACK_CHANNEL, "state": "on"}
    )
    assert refused.status == 403
    await sign_in(client)
    page = await client.get("/admin/listening")
    assert page.status == 200
    html = await page.text()
    assert "Listening mode" in html
    assert '<a href="/admin/listening" aria-current="page">Listening</a>' in html


async def test_switching_on_from_the_console_turns_listening_on_and_audits_the_admin(
    client: TestClient[Any, Any], database: Database
) -> None:
    token = await console_token(client)
    response = await switch(client, token, "slack", SLACK_CHANNEL, "on")
    assert response.status == 303
    store = ListeningStore(database)
    assert await store.is_enabled("slack", SLACK_CHANNEL)
    assert [(actor, action) for actor, action, _ in await store.audit("slack", SLACK_CHANNEL)] == [
        (ADMIN_ACTOR, "on")
    ]
    done = await client.get(response.headers["Location"])
    assert f"Listening is on in slack channel {SLACK_CHANNEL}." in await done.text()


async def test_switching_off_from_the_console_turns_listening_off_and_audits_both(
    client: TestClient[Any, Any], database: Database
) -> None:
    store = ListeningStore(database)
    await store.set("teams", TEAMS_CHANNEL, True, "teams:aad-lead")
    token = await console_token(client)
    assert (await switch(client, token, "teams", TEAMS_CHANNEL, "off")).status == 303
    assert not await store.is_enabled("teams", TEAMS_CHANNEL)
    assert [(actor, action) for actor, action, _ in await store.audit("teams", TEAMS_CHANNEL)] == [
        ("teams:aad-lead", "on"),
        (ADMIN_ACTOR, "off"),
    ]


async def test_a_switch_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    client: TestClient[Any, Any], database: Database
) -> None:
    await console_token(client)
    form = {"platform": "slack", "channel": SLACK_CHANNEL, "state": "on"}
    missing = await client.post("/admin/listening", data=form)
    wrong = await client.post("/admin/listening", data={**form, "csrf_token": "x" * 43})
    assert (missing.status, wrong.status) == (403, 403)
    assert "CSRF" in await wrong.text()
    store = ListeningStore(database)
    assert not await store.is_enabled("slack", SLACK_CHANNEL)
    assert await store.audit("slack", SLACK_CHANNEL) == []


async def test_a_malformed_channel_id_is_refused_with_a_clear_error_keeping_what_was_typed(
    client: TestClient[Any, Any], database: Database
) -> None:
    token = await console_token(client)
    typed = "general channel"
    response = await switch(client, token, "slack", typed, "on")
    assert response.status == 422
    html = await response.text()
    assert "“general channel” is not a Slack channel id" in html
    assert 'value="general channel"' in html  # the field comes back as it was
    assert '<option value="slack" selected>' in html
    assert await ListeningStore(database).channels() == []


async def test_a_channel_id_too_long_for_its_column_is_refused(
    client: TestClient[Any, Any], database: Database
) -> None:
    token = await console_token(client)
    response = await switch(client, token, "teams", "19:" + "a" * 300 + "@thread.tacv2", "on")
    assert response.status == 422
    assert "a channel id has at most 255" in await response.text()
    assert await ListeningStore(database).channels() == []


async def test_a_teams_thread_id_is_refused_with_the_part_to_give(
    client: TestClient[Any, Any], database: Database
) -> None:
    token = await console_token(client)
    response = await switch(client, token, "teams", f"{TEAMS_CHANNEL};messageid=1700", "on")
    assert response.status == 422
    assert "give the channel&#39;s, the part before “;messageid=”" in await response.text()
    assert await ListeningStore(database).channels() == []


async def test_an_unknown_platform_is_refused_with_a_clear_error(
    client: TestClient[Any, Any], database: Database
) -> None:
    token = await console_token(client)
    response = await switch(client, token, "web", "web-chat", "on")
    assert response.status == 422
    html = await response.text()
    assert "Choose Slack or Teams: listening is for their channels." in html
    assert 'value="web-chat"' in html
    assert await ListeningStore(database).channels() == []


async def test_a_teams_channel_link_pasted_as_the_id_is_stored_as_the_channel_id(
    client: TestClient[Any, Any], database: Database
) -> None:
    token = await console_token(client)
    encoded = TEAMS_CHANNEL.replace(":", "%3a").replace("@", "%40")
    assert (await switch(client, token, "teams", encoded, "on")).status == 303
    assert await ListeningStore(database).is_enabled("teams", TEAMS_CHANNEL)


async def test_the_page_lists_channels_switched_on_from_chat_with_their_audit_trail(
    client: TestClient[Any, Any],
) -> None:
    assert client.app is not None
    listener = client.app[DESK].listener
    assert listener is not None
    await listener.command("slack", "C_TEAM", "slack:U_LEAD", "on")  # `/evidence listen on`
    await sign_in(client)
    html = await (await client.get("/admin/listening")).text()
    row = html.split("<code>C_TEAM</code>", 1)[1].split("</tr>", 1)[0]
    assert 'ed-tag--green">on<' in row
    assert "slack:U_LEAD" in row
    assert "Switch off" in row
    trail = html.split("Audit trail", 1)[1]
    assert "<td>slack:U_LEAD</td><td>switched on</td>" in trail


async def test_a_channel_chat_switched_on_can_be_switched_off_in_the_console_as_stored(
    client: TestClient[Any, Any], database: Database
) -> None:
    """Chat stores whatever id the platform sent; the console must not refuse to switch it off
    because it does not look like the ids an admin would type."""
    store = ListeningStore(database)
    await store.set("slack", "C_TEAM", True, "slack:U_LEAD")
    token = await console_token(client)
    assert (await switch(client, token, "slack", "C_TEAM", "off")).status == 303
    assert not await store.is_enabled("slack", "C_TEAM")


async def test_a_channel_nobody_switched_is_off_and_not_listed(
    client: TestClient[Any, Any], database: Database
) -> None:
    await sign_in(client)
    html = await (await client.get("/admin/listening")).text()
    assert "No channel has been switched yet: listening is off everywhere." in html
    assert not await ListeningStore(database).is_enabled("slack", SLACK_CHANNEL)


async def test_teams_channels_the_bot_has_seen_are_offered_but_personal_chats_are_not(
    client: TestClient[Any, Any], database: Database
) -> None:
    conversations = ConversationStore(database)
    await conversations.remember(
        "aad-nurse",
        TEAMS_CHANNEL,
        None,
        "https://smba.trafficmanager.net/uk/",
        {"conversation": {"id": TEAMS_CHANNEL, "conversationType": "channel"}},
    )
    personal = "a:1personal-chat-id"
    await conversations.remember(
        "aad-nurse",
        personal,
        None,
        "https://smba.trafficmanager.net/uk/",
        {"conversation": {"id": personal, "conversationType": "personal"}},
    )
    await sign_in(client)
    html = await (await client.get("/admin/listening")).text()
    offered = html.split('id="listening-known"', 1)[1].split("</table>", 1)[0]
    assert f"<code>{TEAMS_CHANNEL}</code>" in offered
    assert "the bot was spoken to there" in offered
    assert personal not in html


async def test_the_audit_trail_shows_each_channels_latest_changes_newest_first(
    database: Database, clock: FakeClock
) -> None:
    store = ListeningStore(database, clock)
    for n in range(4):
        clock.advance(minutes=1)
        await store.set("slack", SLACK_CHANNEL, n % 2 == 0, f"slack:U{n}")
    await store.set("teams", TEAMS_CHANNEL, True, "teams:aad-lead")
    trail = await store.recent_audit(per_channel=2)
    assert [(a.actor, a.action) for a in trail[("slack", SLACK_CHANNEL)]] == [
        ("slack:U3", "off"),
        ("slack:U2", "on"),
    ]
    assert [(a.actor, a.action) for a in trail[("teams", TEAMS_CHANNEL)]] == [
        ("teams:aad-lead", "on")
    ]
