"""Benchmark: raw aiokafka produce/consume against shared/'s publisher and consumer.

Runs both in one process against one Kafka node (started here on free ports unless
--bootstrap is given) and prints throughputs and the ratios shared/raw. Target: 0.8 or better.

    uv run python benchmarks/kafka_throughput.py [--messages 50000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from ruta_local.infra import KafkaServer, free_port
from ruta_shared.events import EVENTS, Actor, EventEnvelope, new_event
from ruta_shared.events.catalog.intake import CaseOpened
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.consumer import EventConsumer
from ruta_shared.kafka.publisher import EventPublisher

PARTITIONS = 6


def make_envelopes(count: int) -> list[EventEnvelope]:
    """Realistic case.opened events over 1,000 subjects."""
    actor = Actor(id="bench-user", role="case_worker")
    payload = CaseOpened(
        case_id="x",
        case_code="LIM-2026-0001",
        office="lima",
        opened_at=datetime(2026, 1, 1, tzinfo=UTC),
        crime_types=["trafficking", "csec"],
        region_of_exploitation="16",
        arrival_channel="institution_referral",
        referring_institution_kind="prosecutor",
    )
    return [
        new_event(payload, subject=f"case-{n % 1000}", sequence=n // 1000 + 1, actor=actor)
        for n in range(count)
    ]


def producer_kwargs(bootstrap: str) -> dict[str, object]:
    """Identical producer settings for both sides: the comparison is of the library alone."""
    return {
        "bootstrap_servers": bootstrap,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 5,
    }


async def raw_produce(bootstrap: str, topic: str, envelopes: list[EventEnvelope]) -> float:
    """aiokafka alone: pre-encoded bytes, send all, await every acknowledgement."""
    values = [(e.key, EVENTS.encode(e)) for e in envelopes]
    producer = AIOKafkaProducer(**producer_kwargs(bootstrap))  # type: ignore[arg-type]
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value, key=key) for key, value in values]
        await asyncio.gather(*futures)
        return len(values) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def shared_produce(bootstrap: str, topic: str, envelopes: list[EventEnvelope]) -> float:
    """shared/'s EventPublisher: encodes envelopes, adds headers, awaits every acknowledgement."""
    publisher = EventPublisher(bootstrap_servers=bootstrap, client_id="bench")
    await publisher.start()
    try:
        started = time.perf_counter()
        await publisher.publish_many(envelopes, topic=topic)
        return len(envelopes) / (time.perf_counter() - started)
    finally:
        await publisher.stop()


async def raw_consume(bootstrap: str, topic: str, count: int, parse: bool = False) -> float:
    """aiokafka alone: fetch every record, commit per batch; `parse` adds json.loads per value."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=0)  # join the group before the clock starts
        seen, started = 0, time.perf_counter()
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            for partition, records in batches.items():
                seen += len(records)
                if parse:
                    for record in records:
                        json.loads(record.value)  # type: ignore[arg-type]
                await consumer.commit({partition: records[-1].offset + 1})
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def shared_consume(bootstrap: str, topic: str, count: int) -> float:
    """shared/'s EventConsumer: decodes and validates every event, hands it over, commits."""
    seen = 0

    async def handle(_: EventEnvelope) -> None:
        nonlocal seen
        seen += 1

    consumer = EventConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"shared-{uuid.uuid4().hex}",
        topics=[topic],
        handler=handle,
    )
    await consumer.start()
    try:
        await consumer.process_batch(timeout_ms=0)
        started = time.perf_counter()
        while seen < count:
            await consumer.process_batch(timeout_ms=1000)
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def bench(bootstrap: str, messages: int, rounds: int) -> None:
    """Alternate raw and shared runs, each on fresh topics, and report medians and ratios."""
    envelopes = make_envelopes(messages)
    keys = ("raw_p", "shared_p", "raw_c", "json_c", "shared_c")
    results: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(rounds):
        raw_topic, shared_topic = (
            f"bench.raw.{uuid.uuid4().hex}",
            f"bench.shared.{uuid.uuid4().hex}",
        )
        await ensure_topics(bootstrap, [raw_topic, shared_topic], partitions=PARTITIONS)
        results["raw_p"].append(await raw_produce(bootstrap, raw_topic, envelopes))
        results["shared_p"].append(await shared_produce(bootstrap, shared_topic, envelopes))
        results["raw_c"].append(await raw_consume(bootstrap, raw_topic, messages))
        results["json_c"].append(await raw_consume(bootstrap, raw_topic, messages, parse=True))
        results["shared_c"].append(await shared_consume(bootstrap, shared_topic, messages))
    med = {k: statistics.median(v) for k, v in results.items()}
    size = len(EVENTS.encode(envelopes[0]))
    print(
        f"messages per run: {messages} ({size} bytes each), rounds: {rounds}, "
        f"partitions: {PARTITIONS}"
    )
    print(f"{'':<10}{'raw aiokafka':>16}{'shared/':>16}{'ratio':>10}")
    rows = (
        ("produce", "raw_p", "shared_p"),
        ("consume", "raw_c", "shared_c"),
        ("consume*", "json_c", "shared_c"),
    )
    for label, raw, shared in rows:
        ratio = med[shared] / med[raw]
        print(f"{label:<10}{med[raw]:>12,.0f} m/s{med[shared]:>12,.0f} m/s{ratio:>10.2f}")
    print(
        "consume*: baseline also parses each value with json.loads, the least a JSON consumer does"
    )
    print("target: ratio >= 0.80 (medians of the rounds)")


def main() -> None:
    """Parse arguments, start a Kafka node unless one is given, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    args = parser.parse_args()
    if args.bootstrap:
        asyncio.run(bench(args.bootstrap, args.messages, args.rounds))
        return
    with tempfile.TemporaryDirectory(prefix="ruta-bench-") as tmp:
        kafka = KafkaServer(
            name="kafka", workdir=Path(tmp), port=free_port(), controller_port=free_port()
        )
        kafka.start()
        try:
            asyncio.run(bench(kafka.bootstrap, args.messages, args.rounds))
        finally:
            kafka.stop()


if __name__ == "__main__":
    main()
