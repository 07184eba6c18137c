"""Outbox and relay on the real servers: nothing lost while Kafka is down, no double effect."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from ruta_local.infra import KafkaServer, free_port
from ruta_shared.events import Actor, EventEnvelope
from ruta_shared.idempotency import apply_once
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.kafka.consumer import EventConsumer
from ruta_shared.kafka.publisher import EventPublisher
from ruta_shared.outbox import (
    OUTBOX_FIELD,
    PENDING_FIELD,
    ConcurrencyConflictError,
    Outbox,
    OutboxRelay,
)
from ruta_shared.testing.events import case_opened
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

ACTOR = Actor(id="u-7", role="case_worker")
Doc = dict[str, Any]


@pytest.fixture
async def database(mongo_url: str, unique: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        yield client[f"test_{unique}"]
    finally:
        await client.drop_database(f"test_{unique}")
        await client.close()


def publisher_factory(bootstrap: str) -> Any:
    async def factory() -> EventPublisher:
        publisher = EventPublisher(
            bootstrap_servers=bootstrap, client_id="test-relay", request_timeout_ms=5000
        )
        await publisher.start()
        return publisher

    return factory


async def change_status(
    outbox: Outbox, cases: AsyncCollection[Doc], case_id: str, *, after: int, status: str
) -> list[EventEnvelope]:
    """Set the case's status if it is still at sequence `after`; the events written."""
    return await outbox.update(
        cases,
        doc_id=case_id,
        expected_sequence=after,
        update={"$set": {"status": status}},
        subject=case_id,
        payloads=[case_opened(case_id)],
        actor=ACTOR,
    )


async def write_cases(
    outbox: Outbox, cases: AsyncCollection[Doc], ids: list[str]
) -> list[EventEnvelope]:
    """Open each case, then change it once: two events per case, sequences 1 and 2.

    Returns the events of the changes.
    """
    changes: list[EventEnvelope] = []
    for case_id in ids:
        await outbox.insert(
            cases,
            {"_id": case_id, "status": "open"},
            subject=case_id,
            payloads=[case_opened(case_id)],
            actor=ACTOR,
        )
        changes += await change_status(outbox, cases, case_id, after=1, status="in_care")
    return changes


class CountingProjection:
    """A consumer whose effect is a counter per case, applied once per event."""

    def __init__(
        self, bootstrap: str, group: str, collection: AsyncCollection[Doc], subjects: set[str]
    ) -> None:
        self.collection = collection
        self.subjects = subjects
        self.deliveries = 0
        self.consumer = EventConsumer(
            bootstrap_servers=bootstrap, group_id=group, topics=[INTAKE_EVENTS], handler=self.handle
        )

    async def handle(self, envelope: EventEnvelope) -> None:
        if envelope.subject not in self.subjects:
            return
        self.deliveries += 1
        await apply_once(
            self.collection,
            doc_id=envelope.subject,
            envelope=envelope,
            update={"$inc": {"count": 1}},
        )

    async def total(self) -> int:
        return sum([doc["count"] async for doc in self.collection.find({})])

    async def run_until_total(self, expected: int, timeout: float = 90) -> None:
        await self.consumer.start()
        try:
            async with asyncio.timeout(timeout):
                while await self.total() < expected:
                    await self.consumer.process_batch(timeout_ms=300)
                for _ in range(3):  # anything still in flight would show up as a double count
                    await self.consumer.process_batch(timeout_ms=300)
        finally:
            await self.consumer.stop()


async def pending(cases: AsyncCollection[Doc]) -> int:
    return sum([len(doc.get(OUTBOX_FIELD, [])) async for doc in cases.find({})])


async def test_events_written_while_kafka_is_down_all_arrive_once_it_is_back(
    database: Any, unique: str, tmp_path: Path
) -> None:
    kafka = KafkaServer(
        name="kafka", workdir=tmp_path / "kafka", port=free_port(), controller_port=free_port()
    )
    cases, outbox = database["cases"], Outbox()
    relay = OutboxRelay(
        outbox=outbox,
        collections=[cases],
        publisher_factory=publisher_factory(kafka.bootstrap),
        service="intake",
        poll_interval=0.2,
        max_backoff=1.0,
    )
    relay_task = asyncio.create_task(relay.run())
    try:
        ids = [f"{unique}-{n}" for n in range(15)]
        await write_cases(outbox, cases, ids)  # the API keeps accepting writes with Kafka down
        await asyncio.sleep(2)
        assert await pending(cases) == 30
        await asyncio.to_thread(kafka.start)
        await wait_for(lambda: _is(pending(cases), 0), timeout=60)
        assert await cases.count_documents({PENDING_FIELD: True}) == 0
        projection = CountingProjection(
            kafka.bootstrap, f"g-{unique}", database["counts"], set(ids)
        )
        await projection.run_until_total(30)
        assert await projection.total() == 30
        assert [d["count"] async for d in database["counts"].find({})] == [2] * 15
        records = await read_topic(kafka.bootstrap, INTAKE_EVENTS, until=30)
        assert len({r.value for r in records}) == 30
    finally:
        relay.stop()
        await asyncio.wait_for(relay_task, 30)
        await asyncio.to_thread(kafka.stop)


async def _is(value: Any, expected: int) -> bool:
    return await value == expected


class RelayKilledError(Exception):
    """Stands for the relay process dying."""


class CrashingRelay(OutboxRelay):
    """A relay that dies right after Kafka acknowledged, before removing the events."""

    async def remove_published(self, collection: Any, doc_id: Any, published: list[Doc]) -> None:
        raise RelayKilledError


async def test_a_relay_killed_between_publish_and_removal_republishes_without_double_effect(
    database: Any, kafka_bootstrap: str, unique: str
) -> None:
    await ensure_topics(kafka_bootstrap)
    cases, outbox = database["cases"], Outbox()
    ids = [f"{unique}-{n}" for n in range(10)]
    await write_cases(outbox, cases, ids)
    kwargs: dict[str, Any] = {
        "outbox": outbox,
        "collections": [cases],
        "publisher_factory": publisher_factory(kafka_bootstrap),
        "service": "intake",
    }
    crashing = CrashingRelay(**kwargs)
    with pytest.raises(RelayKilledError):
        await crashing.run_once()
    await crashing._drop_publisher()
    assert await pending(cases) == 20  # published, but still in the outbox

    restarted = OutboxRelay(**kwargs)
    assert await restarted.run_once() == 20
    await restarted._drop_publisher()
    assert await pending(cases) == 0

    projection = CountingProjection(kafka_bootstrap, f"g-{unique}", database["counts"], set(ids))
    await projection.run_until_total(20)
    assert projection.deliveries == 40  # every event arrived twice ...
    assert await projection.total() == 20  # ... and counted once
    assert [d["count"] async for d in database["counts"].find({})] == [2] * 10


async def test_a_stale_update_is_refused_and_writes_nothing(database: Any, unique: str) -> None:
    cases, outbox = database["cases"], Outbox()
    case_id = f"{unique}-c"
    first = await write_cases(outbox, cases, [case_id])
    assert [e.sequence for e in first] == [2]
    with pytest.raises(ConcurrencyConflictError):
        await change_status(outbox, cases, case_id, after=1, status="closed")
    doc = await cases.find_one({"_id": case_id})
    assert doc is not None
    assert doc["status"] == "in_care"
    assert doc["_seq"] == 2
    assert [e["sequence"] for e in doc[OUTBOX_FIELD]] == [1, 2]


async def test_apply_once_ignores_repeats_and_older_sequences(database: Any, unique: str) -> None:
    counts = database["counts"]
    base = EventEnvelope(
        type="case.opened",
        version=1,
        source="intake",
        subject=f"s{unique}",
        sequence=1,
        occurred_at=datetime.now(UTC),
        actor=ACTOR,
        correlation_id=str(uuid.uuid4()),
        data={},
    )
    applied = []
    for sequence in [1, 2, 2, 1, 3]:
        envelope = base.model_copy(update={"sequence": sequence})
        applied.append(
            await apply_once(counts, doc_id="total", envelope=envelope, update={"$inc": {"n": 1}})
        )
    assert applied == [True, True, False, False, True]
    doc = await counts.find_one({"_id": "total"})
    assert doc is not None
    assert doc["n"] == 3
