"""Bot Framework clients are made once per app id, service URL and audience and reused, not
built for every turn (building them was most of a Teams turn's CPU)."""

from __future__ import annotations

from botframework.connector.auth import ClaimsIdentity  # type: ignore[import-untyped]

from bot.config.teams import TeamsSettings
from bot.platforms.teams.clients import MAX_CLIENTS, ReusedClientsAuthentication

SERVICE = "https://smba.trafficmanager.net/emea/"


def authentication() -> ReusedClientsAuthentication:
    return ReusedClientsAuthentication(TeamsSettings(app_id="").sdk_configuration())


def local() -> ClaimsIdentity:
    return ClaimsIdentity({}, True)


async def test_turns_to_the_same_service_share_one_connector_client() -> None:
    auth = authentication()
    first = await auth.create_connector_factory(local()).create(SERVICE)
    second = await auth.create_connector_factory(local()).create(SERVICE)
    assert first is second


async def test_another_service_url_gets_its_own_connector_client() -> None:
    factory = authentication().create_connector_factory(local())
    assert await factory.create(SERVICE) is not await factory.create(SERVICE + "other/")


async def test_turns_share_one_user_token_client() -> None:
    auth = authentication()
    assert await auth.create_user_token_client(local()) is await auth.create_user_token_client(
        local()
    )


async def test_made_up_service_urls_cannot_grow_the_kept_clients_without_end() -> None:
    factory = authentication().create_connector_factory(local())
    first = await factory.create(SERVICE)
    for n in range(MAX_CLIENTS):
        await factory.create(f"https://example.invalid/{n}/")
    assert await factory.create(SERVICE) is not first  # the oldest was dropped
