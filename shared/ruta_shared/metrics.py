"""Prometheus metrics shared by the services; labels never carry personal data or raw URLs."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One service's metrics, in a registry of its own (so tests can build many apps)."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "ruta_http_requests_total",
            "HTTP requests handled, by route template.",
            ["service", "method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "ruta_http_request_duration_seconds",
            "HTTP request latency, by route template.",
            ["service", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_published = Counter(
            "ruta_events_published_total",
            "Events acknowledged by Kafka.",
            ["topic", "type"],
            registry=r,
        )
        self.events_consumed = Counter(
            "ruta_events_consumed_total",
            "Events handled by a consumer group.",
            ["group", "type"],
            registry=r,
        )
        self.events_dead_lettered = Counter(
            "ruta_events_dead_lettered_total",
            "Messages sent to a dead-letter topic.",
            ["group", "reason"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "ruta_outbox_pending_events",
            "Events written to the outbox and not yet published.",
            ["service"],
            registry=r,
        )
        self.outbox_publish_failures = Counter(
            "ruta_outbox_publish_failures_total",
            "Relay rounds that could not publish (Kafka unreachable or refusing).",
            ["service"],
            registry=r,
        )

    def exposition(self) -> Response:
        """The /metrics response."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def http_middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count and time each request under its route template, never the raw path."""
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = _route_template(request)
            self.http_requests.labels(self.service, request.method, route, str(status)).inc()
            self.http_latency.labels(self.service, request.method, route).observe(
                time.perf_counter() - started
            )


def _route_template(request: Request) -> str:
    """The matched route's path template (set in the scope by routing), never the raw path."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))
