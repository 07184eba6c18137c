"""Consumes events: commits only after handling; unreadable messages go to a dead-letter topic."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from tenacity import AsyncRetrying, RetryError, stop_after_attempt, wait_exponential

from ruta_shared.correlation import reset_correlation_id, set_correlation_id
from ruta_shared.events import EVENTS, EventEnvelope, EventError, EventRegistry
from ruta_shared.kafka.dead_letters import dead_letter_headers
from ruta_shared.metrics import Metrics
from ruta_shared.topics import dead_letter_topic

log = logging.getLogger(__name__)

Handler = Callable[[EventEnvelope], Awaitable[None]]


class EventConsumer:
    """Reads topics in a consumer group and hands each valid event to `handler`.

    Offsets are committed per partition only after every message up to them was handled
    or dead-lettered, so a crash re-delivers: handlers must be idempotent (see
    `ruta_shared.idempotency`). A handler that keeps failing after its retries sends the
    message to the dead-letter topic with the reason, and the consumer goes on.
    """

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        topics: Iterable[str],
        handler: Handler,
        registry: EventRegistry = EVENTS,
        metrics: Metrics | None = None,
        max_records: int = 500,
        handler_attempts: int = 5,
        retry_max_wait_seconds: float = 5.0,
    ) -> None:
        self.group_id = group_id
        self.topics = tuple(topics)
        self._handler = handler
        self._registry = registry
        self._metrics = metrics
        self._max_records = max_records
        self._attempts = handler_attempts
        self._retry_max_wait = retry_max_wait_seconds
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self._dlq = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=f"{group_id}-dlq",
            enable_idempotence=True,
            acks="all",
        )
        self._stopping = asyncio.Event()
        self._consumed: dict[str, Any] = {}  # labelled counters, looked up once per type

    async def start(self) -> None:
        """Join the group."""
        await self._dlq.start()
        await self._consumer.start()

    async def stop(self) -> None:
        """Leave the group (uncommitted work is re-delivered to the next member)."""
        self._stopping.set()
        await self._consumer.stop()
        await self._dlq.stop()

    async def run(self) -> None:
        """Process batches until `stop()`."""
        while not self._stopping.is_set():
            await self.process_batch(timeout_ms=500)

    async def process_batch(self, timeout_ms: int = 1000) -> int:
        """Fetch one batch, handle it, commit; returns how many messages were processed."""
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=self._max_records)
        processed = 0
        for partition, records in batches.items():
            for record in records:
                await self._process(record)
                processed += 1
            await self._consumer.commit({partition: records[-1].offset + 1})
        return processed

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = self._registry.decode(record.value)
        except EventError as exc:
            await self._dead_letter(record, exc.reason, str(exc))
            return
        token = set_correlation_id(envelope.correlation_id)
        try:
            await self._handler(envelope)  # the common case: no retry machinery
        except Exception:
            if not await self._retry(record, envelope):
                return
        finally:
            reset_correlation_id(token)
        if self._metrics is not None:
            counter = self._consumed.get(envelope.type)
            if counter is None:
                counter = self._consumed[envelope.type] = self._metrics.events_consumed.labels(
                    self.group_id, envelope.type
                )
            counter.inc()

    async def _retry(self, record: ConsumerRecord[bytes, bytes], envelope: EventEnvelope) -> bool:
        """Retry a failed handler with backoff; dead-letter the message when it keeps failing."""
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(max(self._attempts - 1, 1)),
                wait=wait_exponential(multiplier=0.05, max=self._retry_max_wait),
                reraise=False,
            ):
                with attempt:
                    await self._handler(envelope)
        except RetryError as exc:
            error = exc.last_attempt.exception()
            # Exception texts can quote documents: log the type and the frames, not the message.
            log.error(
                "handler failed, dead-lettering",
                extra={
                    "event_id": str(envelope.id),
                    "event_type": envelope.type,
                    "error": type(error).__name__,
                    "frames": traceback.format_tb(error.__traceback__) if error else [],
                },
            )
            await self._dead_letter(record, "handler_failed", type(error).__name__)
            return False
        return True

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, detail: str
    ) -> None:
        headers = dead_letter_headers(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
            detail=detail,
            group=self.group_id,
            original=record.headers or (),
        )
        await self._dlq.send_and_wait(
            dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
        )
        log.warning(
            "message dead-lettered",
            extra={
                "reason": reason,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
            },
        )
        if self._metrics is not None:
            self._metrics.events_dead_lettered.labels(self.group_id, reason).inc()

    def assignment(self) -> set[TopicPartition]:
        """Partitions this member holds now."""
        return set(self._consumer.assignment())
