"""The audit trail's Kafka side: the checkpoint topic, and the events entries come from.

The checkpoint topic has one partition and never expires, so its last message is the newest
checkpoint ever sealed, whatever the database says. Each entry records where its event was
read (topic, partition, offset), so an entry appended after the last checkpoint is checked
against that one message, not a scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from ruta_shared.events import EVENTS, EventError

from ruta_analytics.audit.rules import canonical_json

Document = dict[str, Any]
FETCH_SECONDS = 10.0
# Evidence: never deleted by time or size, never compacted away.
DURABLE_CONFIGS = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}


async def ensure_checkpoint_topic(bootstrap_servers: str, topic: str) -> None:
    """Create the checkpoint topic (one partition, never expiring) if it is missing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        if topic not in set(await admin.list_topics()):
            new = NewTopic(
                topic, num_partitions=1, replication_factor=1, topic_configs=DURABLE_CONFIGS
            )
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([new])
    finally:
        await admin.close()


async def publish_checkpoint(bootstrap_servers: str, topic: str, checkpoint: Document) -> None:
    """Publish a checkpoint (acknowledged by every in-sync replica)."""
    await ensure_checkpoint_topic(bootstrap_servers, topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, canonical_json(checkpoint), key=b"checkpoint")
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def _reader(bootstrap_servers: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def _read_at(
    consumer: AIOKafkaConsumer, partition: TopicPartition, offset: int
) -> bytes | None:
    consumer.assign([partition])
    ends = await consumer.end_offsets([partition])
    if offset < 0 or offset >= ends[partition]:
        return None
    consumer.seek(partition, offset)
    batch = await consumer.getmany(partition, timeout_ms=int(FETCH_SECONDS * 1000), max_records=1)
    records = batch.get(partition, [])
    return records[0].value if records and records[0].offset == offset else None


async def latest_published(bootstrap_servers: str, topic: str) -> Document | None:
    """The checkpoint topic's last message (None when nothing was published)."""
    partition = TopicPartition(topic, 0)
    async with _reader(bootstrap_servers) as consumer:
        if topic not in await consumer.topics():
            return None
        ends = await consumer.end_offsets([partition])
        value = await _read_at(consumer, partition, ends[partition] - 1)
    return json.loads(value) if value is not None else None


async def all_published(bootstrap_servers: str, topic: str) -> AsyncIterator[Document]:
    """Every checkpoint on the topic, oldest first."""
    partition = TopicPartition(topic, 0)
    async with _reader(bootstrap_servers) as consumer:
        if topic not in await consumer.topics():
            return
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        consumer.seek(partition, 0)
        position, empty = 0, 0
        while position < end and empty < 3:  # three empty fetches in a row: the broker is gone
            batch = await consumer.getmany(partition, timeout_ms=int(FETCH_SECONDS * 1000))
            records = batch.get(partition, [])
            empty = 0 if records else empty + 1
            for record in records:
                position = record.offset + 1
                yield json.loads(record.value or b"null")
        if position < end:
            msg = "the checkpoint topic could not be read to its end"
            raise RuntimeError(msg)


async def backed_entries(bootstrap_servers: str, entries: Sequence[Mapping[str, Any]]) -> set[str]:
    """The ids of `entries` whose recorded Kafka message is their event, unchanged."""
    backed: set[str] = set()
    async with _reader(bootstrap_servers) as consumer:
        for entry in entries:
            origin = entry.get("origin")
            if not isinstance(origin, Mapping):
                continue
            partition = TopicPartition(str(origin.get("topic")), int(origin.get("partition", -1)))
            try:
                value = await asyncio.wait_for(
                    _read_at(consumer, partition, int(origin.get("offset", -1))), FETCH_SECONDS
                )
                envelope = EVENTS.decode(value) if value is not None else None
            except (EventError, TimeoutError, ValueError):
                continue
            if envelope is not None and canonical_json(
                envelope.model_dump(mode="json")
            ) == canonical_json(entry.get("event")):
                backed.add(str(entry.get("_id")))
    return backed
