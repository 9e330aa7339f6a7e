"""Bot Framework clients made once and reused, not built for every turn.

botbuilder's `CloudAdapter` asks its authentication for a new `ConnectorClient` and a new
`UserTokenClient` on every incoming activity and on every proactive `continue_conversation`
(how the outbox posts an answer). Building one builds msrest configuration objects whose retry
policy alone cost more CPU than answering the question: with them, one process answered about
20 Teams activities a second at 44 ms of CPU each (benchmarks/load.py --teams,
docs/performance.md). The older `BotFrameworkAdapter` kept its clients per service URL, app id
and audience; this does the same. Credentials are the SDK's own objects, which fetch and renew
their tokens themselves, so a kept client stays usable.
"""

from __future__ import annotations

from typing import Final, TypeVar

from botbuilder.integration.aiohttp import (  # type: ignore[import-untyped]
    ConfigurationBotFrameworkAuthentication,
)
from botframework.connector import ConnectorClient  # type: ignore[import-untyped]
from botframework.connector.auth import (  # type: ignore[import-untyped]
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

#: Kept clients per app id and per (service URL, audience); the oldest is dropped past this,
#: so a stream of made-up service URLs cannot grow the cache without end.
MAX_CLIENTS: Final = 64

K = TypeVar("K")
V = TypeVar("V")


def _app_id(claims_identity: ClaimsIdentity) -> str | None:
    """The bot's app id the SDK builds clients for (None in local mode): what it keys on too."""
    app_id = claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
    if app_id is None:
        app_id = claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
    return str(app_id) if app_id is not None else None


def _keep(cache: dict[K, V], key: K, value: V) -> V:
    if len(cache) >= MAX_CLIENTS:
        del cache[next(iter(cache))]
    cache[key] = value
    return value


class _KeptConnectors(ConnectorFactory):  # type: ignore[misc]
    def __init__(self, factory: ConnectorFactory) -> None:
        self._factory = factory
        self._clients: dict[tuple[str, str | None], ConnectorClient] = {}

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        client = self._clients.get((service_url, audience))
        if client is None:
            client = _keep(
                self._clients,
                (service_url, audience),
                await self._factory.create(service_url, audience),
            )
        return client


class ReusedClientsAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """The SDK's configuration-based authentication, with its clients kept and reused."""

    def __init__(self, configuration: object) -> None:
        super().__init__(configuration)
        self._factories: dict[str | None, ConnectorFactory] = {}
        self._token_clients: dict[str | None, UserTokenClient] = {}

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        app_id = _app_id(claims_identity)
        factory = self._factories.get(app_id)
        if factory is None:
            factory = _keep(
                self._factories,
                app_id,
                _KeptConnectors(super().create_connector_factory(claims_identity)),
            )
        return factory

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = _app_id(claims_identity)
        client = self._token_clients.get(app_id)
        if client is None:
            client = _keep(
                self._token_clients,
                app_id,
                await super().create_user_token_client(claims_identity),
            )
        return client
