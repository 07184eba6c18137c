"""Benchmark: the analytics rebuild against raw consume + bulk writes of the same events.

Starts its own Kafka node and FerretDB (`support.servers`). Publishes N synthetic events
(`ruta_shared.testing.synthetic.random_stream`: random routes of care, referrals, returns,
milestones, access-log events and training sessions) onto three fresh topics, then measures
- the baseline: raw aiokafka reading every partition of those topics from the beginning (same
  fetch size as the rebuild), `json.loads` of each value, and `insert_many` of the raw event
  documents in batches into a fresh collection of a fresh database;
- the real rebuild, `ruta_analytics.workers.rebuild.rebuild` (what `ruta-analytics-rebuild`
  runs), into a fresh database: decode and validate, every projection in memory, then bulk
  inserts of every document (10,000 per command), indexes, catch-up and generation swap.
  (The hash-chained audit trail is a ledger the live consumer appends to; a rebuild does not
  rewrite it, so it is not timed here: `end_to_end_latency.py` measures the live projection.)
Prints both throughputs (events/s), wall times and the ratio rebuild/baseline (target: 0.5 or
better).

    uv run python benchmarks/analytics_rebuild.py [--events 1000000] [--seed 7]
        [--baseline-batch 5000]

Progress goes to stderr; the figures to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient
from ruta_analytics.projection.models import FACT_COLLECTIONS
from ruta_analytics.projection.store import Generation
from ruta_analytics.settings import AnalyticsSettings
from ruta_analytics.workers.rebuild import FETCH_RECORDS, rebuild
from ruta_shared.events import EventEnvelope
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.publisher import EventPublisher
from ruta_shared.testing.synthetic import random_stream
from ruta_shared.topics import dead_letter_topic
from support import MACHINE, Servers, note, say, servers

Doc = dict[str, Any]
SOURCES: Final = ("intake", "referrals", "training")
CASES_PER_CHUNK: Final = 1_000  # about 10,000 events per generated chunk
PUBLISH_SLICE: Final = 2_000
TARGET_RATIO: Final = 0.5


async def publish_events(bootstrap: str, topics: dict[str, str], count: int, seed: int) -> None:
    """Publish `count` synthetic events, generated chunk by chunk, each to its source's topic."""
    names = [*topics.values(), *(dead_letter_topic(t) for t in topics.values())]
    await ensure_topics(bootstrap, names)
    rng = random.Random(seed)
    publisher = EventPublisher(bootstrap_servers=bootstrap, client_id="bench-analytics")
    await publisher.start()
    try:
        done, chunk, started = 0, 0, time.perf_counter()
        while done < count:
            events = random_stream(
                rng,
                cases=CASES_PER_CHUNK,
                years=(2023, 2024, 2025),
                sessions=CASES_PER_CHUNK // 20,
                prefix=f"{seed}x{chunk}",
            )[: count - done]
            by_topic: dict[str, list[EventEnvelope]] = defaultdict(list)
            for envelope in events:
                by_topic[topics[envelope.source]].append(envelope)
            for topic, batch in by_topic.items():
                for start in range(0, len(batch), PUBLISH_SLICE):
                    await publisher.publish_many(batch[start : start + PUBLISH_SLICE], topic=topic)
            done += len(events)
            chunk += 1
            rate = done / (time.perf_counter() - started)
            sys.stderr.write(f"\rpublished {done:,}/{count:,} events ({rate:,.0f} ev/s)")
            sys.stderr.flush()
        sys.stderr.write("\n")
    finally:
        await publisher.stop()


async def baseline(
    bootstrap: str, topics: list[str], mongo_url: str, database: str, batch: int
) -> int:
    """Raw aiokafka from the beginning of every partition, json.loads, insert_many in batches."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[database]["events"]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        group_id=None,
    )
    await consumer.start()
    written = 0
    try:
        await consumer._client.force_metadata_update()  # as the rebuild does: every topic
        partitions = [
            TopicPartition(topic, n)
            for topic in topics
            for n in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if await consumer.position(tp) < end[tp]}
        documents: list[Doc] = []
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=FETCH_RECORDS)
            for tp, records in fetched.items():
                values = [r.value for r in records if r.offset < end[tp]]
                documents += [json.loads(value) for value in values if value is not None]
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
                    consumer.pause(tp)
            while len(documents) >= batch:
                await collection.insert_many(documents[:batch], ordered=False)
                written += batch
                del documents[:batch]
        if documents:
            await collection.insert_many(documents, ordered=False)
            written += len(documents)
        return written
    finally:
        await consumer.stop()
        await client.close()


async def bench_rebuild(bootstrap: str, mongo_url: str, args: argparse.Namespace) -> None:
    """Publish the events, run the baseline, then the real rebuild; print the comparison."""
    unique = uuid.uuid4().hex[:8]
    topics = {source: f"bench{unique}.{source}.events" for source in SOURCES}
    started = time.perf_counter()
    await publish_events(bootstrap, topics, args.events, args.seed)
    published = time.perf_counter() - started
    say(
        f"{args.events:,} synthetic events on {len(topics)} topics x 6 partitions, "
        f"published in {published:.1f}s ({args.events / published:,.0f} ev/s, not compared)"
    )

    base_db, rebuild_db = f"bench_base_{unique}", f"bench_rebuild_{unique}"
    note("baseline: raw aiokafka + json.loads + insert_many ...")
    started = time.perf_counter()
    written = await baseline(
        bootstrap, list(topics.values()), mongo_url, base_db, args.baseline_batch
    )
    base_seconds = time.perf_counter() - started
    note(f"baseline wrote {written:,} documents in {base_seconds:.1f}s")

    settings = AnalyticsSettings(
        environment="test",
        kafka_bootstrap_servers=bootstrap,
        mongo_url=mongo_url,
        mongo_database=rebuild_db,
        event_topics=list(topics.values()),
        log_level="WARNING",
    )
    started = time.perf_counter()
    result = await rebuild(settings, show_progress=True)
    rebuild_seconds = time.perf_counter() - started

    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        generation = Generation(client[rebuild_db], result.generation)
        facts = {
            name: count
            for name in FACT_COLLECTIONS
            if (count := await generation.collection(name).estimated_document_count())
        }
        await client.drop_database(base_db)
        await client.drop_database(rebuild_db)
    finally:
        await client.close()

    base_rate, rebuild_rate = written / base_seconds, result.events / rebuild_seconds
    ratio = rebuild_rate / base_rate
    say(f"{'':<46}{'events':>10}{'wall s':>10}{'events/s':>12}")
    say(
        f"{'baseline (aiokafka + insert_many ' + str(args.baseline_batch) + ')':<46}"
        f"{written:>10,}{base_seconds:>10.1f}{base_rate:>12,.0f}"
    )
    say(
        f"{'rebuild (ruta_analytics.workers.rebuild)':<46}"
        f"{result.events:>10,}{rebuild_seconds:>10.1f}{rebuild_rate:>12,.0f}"
    )
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    say(f"ratio rebuild/baseline: {ratio:.2f} (target >= {TARGET_RATIO:.2f}: {verdict})")
    say(
        f"baseline wrote {written:,} event documents; rebuild wrote {sum(facts.values()):,} "
        f"fact documents {facts} (the audit ledger is not rewritten by a rebuild); "
        f"unreadable skipped: {result.skipped}"
    )


def main() -> None:
    """Start Kafka and FerretDB on free ports in a temporary folder, run, stop them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000, help="events to rebuild from")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--baseline-batch", type=int, default=5_000, help="documents per insert_many"
    )
    args = parser.parse_args()
    with servers() as running:
        asyncio.run(run(running, args))


async def run(running: Servers, args: argparse.Namespace) -> None:
    """The benchmark on the started servers."""
    say(f"machine: {os.cpu_count()} CPUs; {MACHINE}")
    await bench_rebuild(running.kafka, running.mongo_url, args)


if __name__ == "__main__":
    main()
