"""The process's Prometheus metrics: what the desk counts as it works.

Kept apart from the web server's middleware (bot/observability.py), so the desk's services
can count answers and unrouted requests without knowing the server that shows them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


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
