"""Kafka stops for 15 s under a trickle: intake logs the outage sparsely, its end once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from ruta_local.infra import free_port
from ruta_local.pytest_plugin import start_kafka
from ruta_shared.testing.faults import intake_process, load, opened_events
from ruta_shared.testing.kafka import wait_for
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
# What "bounded" means here: a few lines per component, however long the outage lasts.
MAX_LINES = 8


async def test_kafka_outage_is_logged_once_and_its_end_once(mongo_url: str, tmp_path: Path) -> None:
    # This test's own broker, stopped and started again (its readiness check runs a loop).
    kafka = await asyncio.to_thread(start_kafka, tmp_path / "kafka")
    unique = uuid.uuid4().hex[:8]
    process, headers = intake_process(
        kafka=kafka.bootstrap,
        mongo_url=mongo_url,
        workdir=tmp_path,
        database=f"intake_{unique}",
        port=free_port(),
    )
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = mongo[f"intake_{unique}"]
    try:
        process.start()
        stop = asyncio.Event()
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
            trickle = asyncio.create_task(
                load(
                    client, headers, prefix=f"trickle-{unique}", stop=stop, concurrency=1, pause=0.5
                )
            )
            await asyncio.sleep(3)
            before = len(process.log_lines())
            await asyncio.to_thread(kafka.stop)
            await asyncio.sleep(15)
            await asyncio.to_thread(kafka.start)

            async def drained() -> bool:
                return await db.cases.count_documents({"_outbox_pending": True}) == 0

            stop.set()
            attempts = await trickle
            await wait_for(drained, timeout=90)
        lines = process.log_lines()[before:]
        loud = [line for line in lines if line.get("level") in {"WARNING", "ERROR", "CRITICAL"}]
        by_logger = Counter(str(line.get("logger")) for line in loud)
        print(
            f"\n{len(attempts)} requests; WARNING/ERROR lines during the outage: {dict(by_logger)}"
        )

        # The API kept accepting writes and every event left once Kafka was back.
        assert all(a.statuses == [201] for a in attempts), [a.statuses for a in attempts]
        case_ids = {a.case_id for a in attempts if a.case_id is not None}
        events = await opened_events(kafka.bootstrap, INTAKE_EVENTS, case_ids)
        assert set(events) == case_ids
        # Sparse lines, and the end reported once if the relay saw the outage (a short one
        # can stay within the producer's own delivery timeout and never fail a round).
        messages = [line.get("message") for line in lines]
        assert messages.count("kafka unreachable") <= 1
        assert messages.count("kafka reachable again") == messages.count("kafka unreachable")
        assert len(loud) <= MAX_LINES, [line.get("message") for line in loud]
    finally:
        process.stop()
        kafka.stop()
        await mongo.drop_database(f"intake_{unique}")
        await mongo.close()
