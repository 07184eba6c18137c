"""Test helpers that read Kafka topics back from the beginning."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: int | None = None,
    timeout: float = 20.0,
    idle: float = 1.5,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Records of `topic` from the start, until `until` of them or nothing new for `idle`s."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"reader-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    last_new = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for partition_records in batch.values():
                records.extend(partition_records)
            if batch:
                last_new = time.monotonic()
            if until is not None and len(records) >= until:
                break
            if until is None and records and time.monotonic() - last_new > idle:
                break
    finally:
        await consumer.stop()
    return records


async def wait_for(
    predicate: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, interval: float = 0.2
) -> None:
    """Poll an async predicate until it returns true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(interval)
    msg = f"condition not met within {timeout}s"
    raise AssertionError(msg)
