"""The web package's shared objects on the aiohttp app (typed keys, no globals)."""

from __future__ import annotations

from aiohttp import web

from bot.config.web import WebSettings
from bot.delivery.web_messages import WebMessenger

WEB_SETTINGS = web.AppKey("web_settings", WebSettings)
WEB_MESSENGER = web.AppKey("web_messenger", WebMessenger)
#: Whether "Sign in with Microsoft" is configured (bot/platforms/web/sso/): the pages offer it then.
SSO_ON = web.AppKey("sso_on", bool)
