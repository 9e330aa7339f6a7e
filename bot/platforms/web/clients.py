"""The client behind a web request, as seen through the operator's trusted proxies.

`client(request)` is the address the sign-in limit counts by and whether the client's own
connection was HTTPS (bot/network.py explains which headers are believed, and from whom).
"""

from __future__ import annotations

from aiohttp import web

from bot.network import ClientView, client_view
from bot.platforms.web.keys import WEB_SETTINGS


def client(request: web.Request) -> ClientView:
    settings = request.app[WEB_SETTINGS]
    return client_view(
        request.remote, request.headers, request.secure, settings.trusted_proxy_networks
    )


def secure_cookies(request: web.Request) -> bool:
    """Mark cookies Secure: as configured, else when the client's connection was HTTPS."""
    configured = request.app[WEB_SETTINGS].secure_cookies
    return client(request).secure if configured is None else configured
