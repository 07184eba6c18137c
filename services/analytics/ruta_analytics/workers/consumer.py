"""The analytics stream processor (faust-streaming): projects every Ruta event into MongoDB.

Events are taken in small batches; each batch loads the documents it touches, applies the
events (`projection.handlers`) and writes the results idempotently (`projection.store`), so a
duplicate delivery, a crash in the middle of a batch or a restart changes nothing: the same
events processed again produce the same documents. Unreadable messages go to the topic's
dead-letter topic. Prometheus metrics are served on the worker's web port at /metrics.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
from prometheus_client import Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pymongo import AsyncMongoClient
from ruta_shared.events import EVENTS, EventEnvelope, EventError
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.dead_letters import dead_letter_headers
from ruta_shared.logging import configure_logging
from ruta_shared.metrics import LATENCY_BUCKETS, Metrics
from ruta_shared.mongo import create_mongo_client
from ruta_shared.topics import dead_letter_topic

from ruta_analytics.projection.journal import Worker
from ruta_analytics.projection.store import active_generation, project
from ruta_analytics.settings import AnalyticsSettings
from ruta_analytics.workers.health import install_health
from ruta_analytics.workers.outage_logs import keep_ruta_logging

log = logging.getLogger(__name__)

GROUP = "analytics"
RETRY_MAX_SECONDS = 10.0


class ConsumerMetrics:
    """The stream processor's metrics (shared counters plus its own latency and lag)."""

    def __init__(self) -> None:
        self.shared = Metrics("analytics-consumer")
        registry = self.shared.registry
        self.processing = Histogram(
            "ruta_analytics_batch_processing_seconds",
            "Time to project one batch of events into MongoDB.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.end_to_end = Histogram(
            "ruta_analytics_end_to_end_seconds",
            "From an event's occurred_at to its effect being written.",
            buckets=(*LATENCY_BUCKETS, 30.0, 60.0, 300.0),
            registry=registry,
        )
        self.lag = Gauge(
            "ruta_analytics_consumer_lag",
            "Messages behind the end of each partition after the last batch.",
            ["topic", "partition"],
            registry=registry,
        )

    def handled(self, envelopes: list[EventEnvelope], seconds: float) -> None:
        """Count a projected batch."""
        self.processing.observe(seconds)
        now = datetime.now(UTC)
        counts: dict[str, int] = {}
        for envelope in envelopes:
            counts[envelope.type] = counts.get(envelope.type, 0) + 1
            self.end_to_end.observe(max((now - envelope.occurred_at).total_seconds(), 0.0))
        for event_type, count in counts.items():
            self.shared.events_consumed.labels(GROUP, event_type).inc(count)


@dataclass
class Projector:
    """The worker's Mongo side: projects batches into the active generation, never skipping."""

    settings: AnalyticsSettings
    client: AsyncMongoClient[dict[str, Any]] | None = None
    worker: Worker | None = None

    async def project(
        self, envelopes: list[EventEnvelope], origins: dict[str, dict[str, Any]] | None = None
    ) -> None:
        """Project a batch, retrying while MongoDB is unavailable (never skipping events)."""
        if self.client is None:
            self.client = create_mongo_client(self.settings)
        if self.worker is None:
            self.worker = Worker(lease_seconds=self.settings.journal_lease_seconds)
        delay = 0.1
        while True:
            try:
                generation = await active_generation(self.client[self.settings.mongo_database])
                await project(generation, envelopes, origins=origins, worker=self.worker)
                return
            except Exception as exc:
                log.warning(
                    "projection failed, retrying",
                    extra={"error": type(exc).__name__, "delay": delay},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def close(self) -> None:
        """Close the Mongo client, if one was opened."""
        if self.client is not None:
            await self.client.close()
            self.client = None


@dataclass(frozen=True)
class StreamWorker:
    """The faust app, its projecting agent and what they hold (built by `create_stream_worker`)."""

    app: faust.App
    agent: Any  # faust's AgentT (untyped): `agent.test_context()` runs it in-process
    projector: Projector
    metrics: ConsumerMetrics


def create_stream_worker(settings: AnalyticsSettings) -> StreamWorker:
    """Build the faust app and its agent from settings (nothing is wired at import time)."""
    app = faust.App(
        settings.faust_app_id,
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        store="memory://",
        datadir=settings.faust_data_dir,
        processing_guarantee=settings.faust_processing_guarantee,
        topic_partitions=settings.kafka_topic_partitions,
        topic_replication_factor=settings.kafka_replication_factor,
        web_port=settings.faust_web_port,
        web_bind="127.0.0.1" if settings.environment != "production" else "0.0.0.0",  # noqa: S104
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.faust_session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.faust_session_timeout_seconds / 3),
    )
    topics = app.topic(*settings.event_topics, key_serializer="raw", value_serializer="raw")
    dead_letters = {
        topic: app.topic(dead_letter_topic(topic), key_serializer="raw", value_serializer="raw")
        for topic in settings.event_topics
    }
    metrics = ConsumerMetrics()
    projector = Projector(settings)

    async def dead_letter(event: Any, reason: str, detail: str) -> None:
        message = event.message
        headers = dead_letter_headers(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            reason=reason,
            detail=detail,
            group=GROUP,
            original=_headers(message.headers),
        )
        await dead_letters[message.topic].send(
            key=message.key, value=message.value, headers=headers
        )
        metrics.shared.events_dead_lettered.labels(GROUP, reason).inc()

    @app.agent(topics)
    async def project_events(stream: Any) -> None:
        # take_events() acks the batch only after this body finished with it, so an offset
        # is never committed before its effect is written.
        async for events in stream.take_events(settings.batch_size, within=settings.batch_seconds):
            started = time.perf_counter()
            envelopes: list[EventEnvelope] = []
            origins: dict[str, dict[str, Any]] = {}
            for event in events:
                try:
                    envelopes.append(EVENTS.decode(event.message.value))
                    origins.setdefault(str(envelopes[-1].id), _origin(event.message))
                except EventError as exc:
                    log.warning("unreadable event dead-lettered", extra={"reason": exc.reason})
                    await dead_letter(event, exc.reason, str(exc))
            if envelopes:
                await projector.project(envelopes, origins)
                metrics.handled(envelopes, time.perf_counter() - started)
            record_lag(events)

    def record_lag(events: list[Any]) -> None:
        last: dict[Any, int] = {}
        for event in events:
            message = event.message
            last[message.tp] = max(last.get(message.tp, -1), message.offset)
        for tp, offset in last.items():
            try:
                highwater = app.consumer.highwater(tp)
            except Exception:  # noqa: S112 (a metric must never stop the projection)
                continue
            if highwater is not None:
                metrics.lag.labels(tp.topic, str(tp.partition)).set(max(highwater - offset - 1, 0))

    @app.page("/")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "service": "analytics-consumer"})

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        # aiohttp wants the charset apart from the media type.
        media_type = CONTENT_TYPE_LATEST.split(";", 1)[0]
        return web.bytes(generate_latest(metrics.shared.registry), content_type=media_type)

    install_health(app, settings)  # /healthz: 503 naming Kafka or MongoDB when unreachable
    keep_ruta_logging(app, settings)  # faust's start replaces the log handlers
    return StreamWorker(app=app, agent=project_events, projector=projector, metrics=metrics)


def _origin(message: Any) -> dict[str, Any]:
    """Where an event was read, recorded in its audit entry."""
    return {"topic": message.topic, "partition": message.partition, "offset": message.offset}


def _headers(headers: Any) -> list[tuple[str, bytes]]:
    """A message's headers as (name, value) pairs (faust gives a list or a mapping)."""
    if not headers:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), bytes(value)) for name, value in pairs]


def run() -> None:
    """`ruta-analytics-consumer`: start a faust worker (extra arguments go to faust)."""
    settings = AnalyticsSettings()
    configure_logging("analytics-consumer", settings.log_level)
    # faust ignores topics missing at start; create them (and their dead-letter topics) first.
    topics = [*settings.event_topics, *(dead_letter_topic(t) for t in settings.event_topics)]
    asyncio.run(ensure_topics(settings.kafka_bootstrap_servers, topics))
    worker = create_stream_worker(settings)
    if len(sys.argv) == 1:
        sys.argv += ["worker", "--loglevel", "warn"]
    worker.app.main()


if __name__ == "__main__":
    run()
