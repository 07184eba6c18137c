"""The leak checker finds a canary in a Kafka header on the real broker, and passes clean topics."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.testing.leak_check import LeakChecker

pytestmark = pytest.mark.integration


async def test_kafka_leak_is_caught_and_clean_topics_pass(kafka_bootstrap: str) -> None:
    clean_topic, leaky_topic = f"leak-clean-{uuid.uuid4().hex[:8]}", f"leak-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [clean_topic, leaky_topic], partitions=2)
    leaks = LeakChecker()
    person = leaks.new_person()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(clean_topic, b'{"victim_id": "v-1"}', key=b"c-1")
        await producer.send_and_wait(
            leaky_topic,
            b'{"ok": true}',
            key=b"c-2",
            headers=[("note", person.notes.encode())],
        )
    finally:
        await producer.stop()
    assert await leaks.scan_kafka(kafka_bootstrap, topics=[clean_topic]) == []
    leaks.assert_clean()
    # Without a topic list every topic is read, the leaky one included.
    found = await leaks.scan_kafka(kafka_bootstrap)
    assert {leak.where.split("[")[0] for leak in found} == {leaky_topic}
    with pytest.raises(AssertionError, match=f"kafka \\[{leaky_topic}\\[.*notes"):
        leaks.assert_clean()
