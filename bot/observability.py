"""Metrics and structured logs for the people who run the service.

Prometheus metrics (requests and latency by endpoint, answers by intent, tickets by status,
outbox depth and age, escalations) on GET /metrics, and JSON log lines carrying a request id.
Nothing here ever records message text: a log line says what happened, not what was said.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CONTENT_TYPE_LATEST

from bot.metrics import Metrics as Metrics  # re-exported: where it was first

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


log = logging.getLogger(__name__)
METRICS = web.AppKey("metrics", Metrics)


def metrics_middleware(metrics: Metrics) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        REQUEST_ID.set(request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16])
        route = (
            request.match_info.route.resource.canonical
            if request.match_info.route.resource
            else "unmatched"
        )
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = CLIENT_CLOSED  # the person went away mid-request: not a server error
            raise
        except ConnectionResetError:
            # Gone while we read their request (a page left mid-upload): nobody to answer, and
            # nothing wrong here, so no traceback; the status is never sent.
            status = CLIENT_CLOSED
            log.debug("client went away during %s %s", request.method, route)
            return web.Response(status=CLIENT_CLOSED)
        finally:
            metrics.requests.labels(route, request.method, str(status)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)

    return middleware


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


#: The status counted for a request whose client went away before the answer (nginx's 499).
CLIENT_CLOSED = 499
#: Requests the page makes every second or so: logged at DEBUG, or nothing else is readable.
QUIET_PATHS: Final = frozenset({"/chat/api/messages", "/chat/api/home", "/healthz", "/readyz"})


class QuietPollingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log, with the chat page's polling and health checks at DEBUG when they
    succeed; everything else (and any failure) at INFO as before. No query strings are
    logged: they can carry a conversation id."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        quiet = request.path in QUIET_PATHS and response.status < 400
        level = logging.DEBUG if quiet else logging.INFO
        if not self.logger.isEnabledFor(level):
            return
        self.logger.log(
            level,
            '%s "%s %s" %s %.3fs',
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the request id; exceptions as their type and trace."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str, json_logs: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if json_logs
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
