"""Publishing and consuming events on the real Kafka broker: order per key and dead letters."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaProducer
from ruta_shared.events import EVENTS, Actor, EventEnvelope, new_event
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.consumer import EventConsumer
from ruta_shared.kafka.publisher import EventPublisher
from ruta_shared.metrics import Metrics
from ruta_shared.testing.events import case_opened
from ruta_shared.testing.kafka import read_topic
from ruta_shared.topics import dead_letter_topic

pytestmark = pytest.mark.integration

ACTOR = Actor(id="u-1", role="case_worker")


async def run_consumer_until(consumer: EventConsumer, done: asyncio.Event, timeout: float) -> None:
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            while not done.is_set():
                await consumer.process_batch(timeout_ms=200)
    finally:
        await consumer.stop()


async def test_published_events_come_back_in_order_per_key(
    kafka_bootstrap: str, unique: str
) -> None:
    topic = f"test.order.{unique}"
    await ensure_topics(kafka_bootstrap, [topic], partitions=3)
    subjects = [f"{unique}-{n}" for n in range(5)]
    envelopes = [
        new_event(case_opened(subject), subject=subject, sequence=seq, actor=ACTOR)
        for seq in range(1, 41)
        for subject in subjects
    ]
    publisher = EventPublisher(bootstrap_servers=kafka_bootstrap, client_id="test")
    await publisher.start()
    try:
        await publisher.publish_many(envelopes, topic=topic)
    finally:
        await publisher.stop()

    received: dict[str, list[int]] = defaultdict(list)
    done = asyncio.Event()

    async def handle(envelope: EventEnvelope) -> None:
        received[envelope.subject].append(envelope.sequence)
        if sum(map(len, received.values())) == len(envelopes):
            done.set()

    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=f"g-{unique}", topics=[topic], handler=handle
    )
    await run_consumer_until(consumer, done, timeout=60)
    assert set(received) == set(subjects)
    for subject in subjects:
        assert received[subject] == list(range(1, 41)), subject
    records = await read_topic(kafka_bootstrap, topic, until=len(envelopes))
    by_key = defaultdict(set)
    for record in records:
        by_key[record.key].add(record.partition)
        assert dict(record.headers)["event-type"] == b"case.opened"
    assert all(len(partitions) == 1 for partitions in by_key.values())


async def test_unreadable_messages_go_to_the_dead_letter_topic_and_the_consumer_goes_on(
    kafka_bootstrap: str, unique: str
) -> None:
    topic = f"test.dlq.{unique}"
    await ensure_topics(kafka_bootstrap, [topic, dead_letter_topic(topic)], partitions=1)
    good_before = new_event(case_opened(unique), subject=unique, sequence=1, actor=ACTOR)
    good_after = new_event(case_opened(unique), subject=unique, sequence=2, actor=ACTOR)
    invalid = good_before.model_dump(mode="json")
    invalid["data"]["office"] = "atlantis"
    unknown = good_before.model_dump(mode="json")
    unknown["type"] = "case.vanished"
    poison_pill = new_event(case_opened(unique), subject=unique, sequence=3, actor=ACTOR)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for value in [
            EVENTS.encode(good_before),
            b"\x00\x01 not json",
            json.dumps(invalid).encode(),
            json.dumps(unknown).encode(),
            EVENTS.encode(poison_pill),
            EVENTS.encode(good_after),
        ]:
            await producer.send_and_wait(topic, value, key=unique.encode())
    finally:
        await producer.stop()

    handled: list[int] = []
    done = asyncio.Event()

    async def handle(envelope: EventEnvelope) -> None:
        if envelope.sequence == 3:
            raise RuntimeError("handler bug")
        handled.append(envelope.sequence)
        if envelope.sequence == 2:
            done.set()

    metrics = Metrics("test")
    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=f"g-{unique}",
        topics=[topic],
        handler=handle,
        metrics=metrics,
        handler_attempts=3,
        retry_max_wait_seconds=0.1,
    )
    await run_consumer_until(consumer, done, timeout=60)
    assert handled == [1, 2]

    dead = await read_topic(kafka_bootstrap, dead_letter_topic(topic), until=4)
    reasons = [dict(r.headers)["dlq-reason"].decode() for r in dead]
    assert reasons == ["undecodable", "invalid", "unknown_type", "handler_failed"]
    headers = dict(dead[1].headers)
    assert headers["dlq-original-topic"] == topic.encode()
    assert headers["dlq-original-offset"] == b"2"
    assert b"data.office" in headers["dlq-detail"]
    assert b"atlantis" not in headers["dlq-detail"]
    assert dead[0].value == b"\x00\x01 not json"
    exposition = metrics.exposition().body.decode()
    assert (
        f'ruta_events_dead_lettered_total{{group="g-{unique}",reason="undecodable"}} 1.0'
        in exposition
    )

    # Offsets were committed past the dead letters: a new member of the group sees nothing again.
    again: list[int] = []

    async def record(envelope: EventEnvelope) -> None:
        again.append(envelope.sequence)

    second = EventConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=f"g-{unique}", topics=[topic], handler=record
    )
    await second.start()
    try:
        for _ in range(5):
            await second.process_batch(timeout_ms=300)
    finally:
        await second.stop()
    assert again == []
