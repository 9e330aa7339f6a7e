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
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class Metrics:
    """One registry per app, so tests (and several apps in one process) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "evidence_desk_http_requests", "HTTP requests", ["route", "method", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "evidence_desk_http_request_seconds", "HTTP request latency", ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=self.registry,
        )  # fmt: skip
        self.answers = Counter(
            "evidence_desk_answers",
            "Messages answered, by intent",
            ["intent"],
            registry=self.registry,
        )
        self.tickets = Gauge(
            "evidence_desk_tickets", "Tickets by status", ["status"], registry=self.registry
        )
        self.unrouted = Counter(
            "evidence_desk_requests_unrouted",
            "Requests that reached no specialist (no route, specialist or general queue)",
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "evidence_desk_outbox_pending",
            "Messages waiting to be delivered",
            registry=self.registry,
        )
        self.outbox_age = Gauge(
            "evidence_desk_outbox_oldest_seconds", "Age of the oldest undelivered message",
            registry=self.registry,
        )  # fmt: skip
        self.escalations = Counter(
            "evidence_desk_escalations",
            "Escalations raised, by kind",
            ["kind"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


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
