"""Publishes event envelopes: idempotent producer, acks=all, key = subject."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from ruta_shared.events import EVENTS, EventEnvelope, EventRegistry
from ruta_shared.metrics import Metrics
from ruta_shared.topics import topic_for_source


def event_headers(envelope: EventEnvelope) -> list[tuple[str, bytes]]:
    """Headers that let a reader route a message without decoding it."""
    return [
        ("event-type", envelope.type.encode()),
        ("event-version", str(envelope.version).encode()),
        ("event-source", envelope.source.encode()),
        ("correlation-id", envelope.correlation_id.encode()),
    ]


class EventPublisher:
    """Sends envelopes to their service's topic and waits until Kafka has them (acks=all)."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        client_id: str,
        metrics: Metrics | None = None,
        registry: EventRegistry = EVENTS,
        linger_ms: int = 5,
        request_timeout_ms: int = 15000,
    ) -> None:
        self._registry = registry
        self._metrics = metrics
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=linger_ms,
            request_timeout_ms=request_timeout_ms,
        )
        self._started = False

    async def start(self) -> None:
        """Connect to the cluster (raises if it cannot be reached)."""
        if not self._started:
            try:
                await self._producer.start()
            except BaseException:
                # Release what the failed start opened: a relay retrying through an outage
                # must not leave an unclosed producer behind on every round.
                with contextlib.suppress(Exception):
                    await self._producer.stop()
                raise
            self._started = True

    async def stop(self) -> None:
        """Flush and disconnect."""
        if self._started:
            self._started = False
            await self._producer.stop()

    async def publish(self, envelope: EventEnvelope, topic: str | None = None) -> None:
        """Send one envelope and wait for the broker's acknowledgement."""
        await self.publish_many([envelope], topic=topic)

    async def publish_many(
        self, envelopes: Sequence[EventEnvelope], topic: str | None = None
    ) -> None:
        """Send envelopes in order and wait for every acknowledgement."""
        pending = []
        for envelope in envelopes:
            target = topic or topic_for_source(envelope.source)
            future = await self._producer.send(
                target,
                value=self._registry.encode(envelope),
                key=envelope.key,
                headers=event_headers(envelope),
            )
            pending.append((target, envelope.type, future))
        await asyncio.gather(*(future for _, _, future in pending))
        if self._metrics is not None:
            for target, event_type, _ in pending:
                self._metrics.events_published.labels(target, event_type).inc()
