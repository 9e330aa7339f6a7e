"""Templates and the security headers every web page gets.

Templates are Jinja2 with autoescaping on, so anything a person or the KB wrote is escaped
unless a renderer in bot/platforms/web/render.py built it as `Markup`. Scripts and styles are files
under /static/ only: the Content-Security-Policy allows no inline script or style at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.platforms.web.clients import client
from bot.platforms.web.keys import WEB_SETTINGS

WEB_DIR: Final = Path(__file__).resolve().parent
STATIC_DIR: Final = WEB_DIR / "static"
TEMPLATES_DIR: Final = WEB_DIR / "templates"

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: Paths whose responses get the headers (the Slack and Teams endpoints are left as they are).
WEB_PREFIXES: Final = ("/chat", "/admin", "/static")

_ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> web.Response:
    body = _ENV.get_template(template).render(**context)
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the headers above, on the web chat's and console's responses."""
    path = request.path
    if path == "/" or path.startswith(WEB_PREFIXES):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if path.startswith("/admin"):
            response.headers.setdefault("Cache-Control", "no-store")
        max_age = request.app[WEB_SETTINGS].hsts_seconds
        if max_age and client(request).secure:
            # Only over HTTPS (RFC 6797): the browser then refuses plain http for this host.
            response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")


@web.middleware
async def styled_not_found(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A page a person opens and that is not there (a mistyped console address, an entry
    since removed) gets a styled page saying so, with a way back; APIs keep their own 404s."""
    try:
        return await handler(request)
    except web.HTTPNotFound as exc:
        path = request.path
        if request.method != "GET" or not path.startswith(("/admin", "/chat")):
            raise
        if path.startswith("/chat/api"):
            raise
        message = exc.text if exc.text and not exc.text.startswith("404") else None
        return render(
            "not_found.html",
            status=404,
            message=message,
            back="/admin" if path.startswith("/admin") else "/",
        )
