"""Single-document outbox: a state change and its events in one atomic update, and the relay.

MongoDB transactions are not available on the local server, so an aggregate document
carries its own pending events (`_outbox`) and its last event sequence (`_seq`). The
relay publishes pending events (idempotent producer, acks=all) and only then removes
them; a crash in between re-publishes, which consumers absorb by deduplicating.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka.errors import KafkaError
from pymongo.asynchronous.collection import AsyncCollection

from ruta_shared.events import Actor, EventData, EventEnvelope, new_event
from ruta_shared.kafka.publisher import EventPublisher
from ruta_shared.metrics import Metrics
from ruta_shared.mongo import database_unavailable
from ruta_shared.outage_log import OutageLog

log = logging.getLogger(__name__)

OUTBOX_FIELD = "_outbox"
PENDING_FIELD = "_outbox_pending"
SEQUENCE_FIELD = "_seq"

Document = dict[str, Any]


class ConcurrencyConflictError(Exception):
    """The document changed since it was read (its event sequence moved on)."""


def merge_updates(*updates: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Combine MongoDB update documents operator by operator; a field set twice is an error."""
    merged: dict[str, dict[str, Any]] = {}
    for update in updates:
        for operator, fields in update.items():
            target = merged.setdefault(operator, {})
            for name, value in fields.items():
                if name in target:
                    msg = f"field {name!r} appears twice under {operator}"
                    raise ValueError(msg)
                target[name] = value
    return merged


class Outbox:
    """Writes aggregate documents together with their events, then wakes the relay."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        # Documents written since the relay last looked, by collection name: the relay
        # reads them by `_id`, which FerretDB looks up directly (other filters scan).
        self._dirty: dict[str, set[Any]] = {}

    def envelopes(
        self,
        payloads: Sequence[EventData],
        *,
        subject: str,
        after_sequence: int,
        actor: Actor,
        causation_id: str | None = None,
    ) -> list[EventEnvelope]:
        """Wrap payloads with the subject's next sequence numbers."""
        return [
            new_event(
                payload,
                subject=subject,
                sequence=after_sequence + offset,
                actor=actor,
                causation_id=causation_id,
            )
            for offset, payload in enumerate(payloads, start=1)
        ]

    async def insert(
        self,
        collection: AsyncCollection[Document],
        document: Document,
        *,
        subject: str,
        payloads: Sequence[EventData],
        actor: Actor,
        causation_id: str | None = None,
    ) -> list[EventEnvelope]:
        """Insert a new aggregate with its first events (sequence starts at 1)."""
        envelopes = self.envelopes(
            payloads, subject=subject, after_sequence=0, actor=actor, causation_id=causation_id
        )
        await collection.insert_one(
            {
                **document,
                SEQUENCE_FIELD: len(envelopes),
                OUTBOX_FIELD: [e.model_dump(mode="json") for e in envelopes],
                PENDING_FIELD: bool(envelopes),
            }
        )
        self.mark(collection, document["_id"])
        return envelopes

    async def update(
        self,
        collection: AsyncCollection[Document],
        *,
        doc_id: Any,
        expected_sequence: int,
        update: Mapping[str, Mapping[str, Any]],
        subject: str,
        payloads: Sequence[EventData],
        actor: Actor,
        causation_id: str | None = None,
    ) -> list[EventEnvelope]:
        """Apply `update` and append its events, only if nobody changed the document since.

        `expected_sequence` is the `_seq` read with the document; it doubles as the
        optimistic-concurrency version. Raises ConcurrencyConflictError otherwise.
        """
        if not payloads:
            msg = "a state change must publish at least one event"
            raise ValueError(msg)
        envelopes = self.envelopes(
            payloads,
            subject=subject,
            after_sequence=expected_sequence,
            actor=actor,
            causation_id=causation_id,
        )
        full = merge_updates(
            update,
            {
                "$set": {SEQUENCE_FIELD: envelopes[-1].sequence, PENDING_FIELD: True},
                "$push": {OUTBOX_FIELD: {"$each": [e.model_dump(mode="json") for e in envelopes]}},
            },
        )
        result = await collection.update_one(
            {"_id": doc_id, SEQUENCE_FIELD: expected_sequence}, full
        )
        if result.matched_count != 1:
            raise ConcurrencyConflictError(str(doc_id))
        self.mark(collection, doc_id)
        return envelopes

    def mark(self, collection: AsyncCollection[Document], doc_id: Any) -> None:
        """Note that `doc_id` has new events and wake the relay."""
        self._dirty.setdefault(collection.name, set()).add(doc_id)
        self.wake()

    def take_dirty(self, collection: AsyncCollection[Document]) -> set[Any]:
        """The ids marked in `collection` since the last call (the relay's work list)."""
        return self._dirty.pop(collection.name, set())

    def wake(self) -> None:
        """Tell the relay there is something to publish."""
        self._wake.set()

    async def wait(self, timeout: float) -> bool:
        """Wait for a write or for `timeout` seconds; True when woken by a write."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            return False
        self._wake.clear()
        return True


PublisherFactory = Callable[[], Awaitable[EventPublisher]]


class OutboxRelay:
    """Publishes pending outbox events of the given collections, then removes them.

    Woken on write by the Outbox, it reads just the documents written (by `_id`); a full
    scan for pending documents runs at start and every `scan_interval` seconds, for writes
    by other processes and for recovery after a crash. While Kafka is unreachable it keeps
    the events and retries with a growing pause; the API keeps accepting writes meanwhile.
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        collections: Sequence[AsyncCollection[Document]],
        publisher_factory: PublisherFactory,
        service: str,
        metrics: Metrics | None = None,
        poll_interval: float = 1.0,
        scan_interval: float = 30.0,
        batch_size: int = 500,
        max_backoff: float = 10.0,
    ) -> None:
        self._outbox = outbox
        self._collections = list(collections)
        self._publisher_factory = publisher_factory
        self._publisher: EventPublisher | None = None
        self._service = service
        self._metrics = metrics
        self._poll_interval = poll_interval
        self._scan_interval = scan_interval
        self._batch_size = batch_size
        self._max_backoff = max_backoff
        self._stopping = asyncio.Event()
        # One line when Kafka (or the database) goes away and one when it is back, not one
        # per failed round.
        self._kafka_outage = OutageLog(log, "kafka", first_reminder=max_backoff * 6)
        self._mongo_outage = OutageLog(log, "mongodb", first_reminder=max_backoff * 6)

    async def run_once(self) -> int:
        """Publish everything pending now (full scan); returns how many events were published."""
        publisher = await self._ensure_publisher()
        total = 0
        for collection in self._collections:
            self._outbox.take_dirty(collection)  # the scan covers them
            while True:
                documents = await collection.find(
                    {PENDING_FIELD: True}, {OUTBOX_FIELD: 1}, limit=self._batch_size
                ).to_list()
                if not documents:
                    break
                total += await self._publish_documents(collection, publisher, documents)
                if len(documents) < self._batch_size:
                    break
        return total

    async def run_marked(self) -> int:
        """Publish the events of the documents the Outbox marked since the last round."""
        work = [(c, self._outbox.take_dirty(c)) for c in self._collections]
        try:
            publisher = await self._ensure_publisher()
            total = 0
            for collection, ids in work:
                found = await asyncio.gather(
                    *(collection.find_one({"_id": i}, {OUTBOX_FIELD: 1}) for i in ids)
                )
                documents = [doc for doc in found if doc and doc.get(OUTBOX_FIELD)]
                for start in range(0, len(documents), self._batch_size):
                    batch = documents[start : start + self._batch_size]
                    total += await self._publish_documents(collection, publisher, batch)
        except BaseException:
            for collection, ids in work:  # not published yet: look again next round
                for doc_id in ids:
                    self._outbox.mark(collection, doc_id)
            raise
        return total

    async def _publish_documents(
        self,
        collection: AsyncCollection[Document],
        publisher: EventPublisher,
        documents: list[Document],
    ) -> int:
        raw_events = [event for doc in documents for event in doc.get(OUTBOX_FIELD) or []]
        if self._metrics is not None:
            self._metrics.outbox_pending.labels(self._service).set(len(raw_events))
        envelopes = [EventEnvelope.model_validate(event) for event in raw_events]
        await publisher.publish_many(envelopes)
        await asyncio.gather(
            *(
                self.remove_published(collection, doc["_id"], doc.get(OUTBOX_FIELD) or [])
                for doc in documents
            )
        )
        if self._metrics is not None:
            self._metrics.outbox_pending.labels(self._service).set(0)
        return len(envelopes)

    async def remove_published(
        self, collection: AsyncCollection[Document], doc_id: Any, published: list[Document]
    ) -> None:
        """Drop published events; clear the pending flag unless new events arrived meanwhile."""
        # Each update is atomic (MongoDB; FerretDB with our patch), so an API write that
        # appends events between the two keeps the flag set: no lock, in or across processes.
        if published:
            await collection.update_one({"_id": doc_id}, {"$pullAll": {OUTBOX_FIELD: published}})
        await collection.update_one(
            {"_id": doc_id, OUTBOX_FIELD: {"$size": 0}}, {"$set": {PENDING_FIELD: False}}
        )

    async def _ensure_publisher(self) -> EventPublisher:
        if self._publisher is None:
            self._publisher = await self._publisher_factory()
        return self._publisher

    async def _drop_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            try:
                await publisher.stop()
            except Exception:
                log.warning("publisher did not stop cleanly")

    async def run(self) -> None:
        """Relay until `stop()`."""
        backoff = self._poll_interval
        loop = asyncio.get_running_loop()
        next_scan = loop.time()  # scan once at start: recovery after a crash
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_scan:
                    published = await self.run_once()
                    next_scan = loop.time() + self._scan_interval
                else:
                    published = await self.run_marked()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if database_unavailable(exc):
                    self._mongo_outage.failed(exc, relay=self._service)
                elif isinstance(exc, KafkaError | OSError | TimeoutError):
                    self._kafka_outage.failed(exc, relay=self._service)
                else:  # not an outage: a fault of ours (repeats are held back by the filter)
                    log.warning("outbox relay round failed", extra={"error": type(exc).__name__})
                if self._metrics is not None:
                    self._metrics.outbox_publish_failures.labels(self._service).inc()
                await self._drop_publisher()
                await self._outbox.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = self._poll_interval
            self._kafka_outage.recovered()
            self._mongo_outage.recovered()
            if published == 0:
                await self._outbox.wait(self._poll_interval)
        await self._drop_publisher()

    def stop(self) -> None:
        """Ask `run()` to finish after the current round."""
        self._stopping.set()
        self._outbox.wake()
