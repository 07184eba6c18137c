"""Creates Ruta's topics and their dead-letter topics when they are missing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from aiokafka import AIOKafkaClient
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ruta_shared.topics import DEAD_LETTER_TOPICS, EVENT_TOPICS, PARTITIONS


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str] = (*EVENT_TOPICS, *DEAD_LETTER_TOPICS),
    *,
    partitions: int = PARTITIONS,
    replication_factor: int = 1,
) -> None:
    """Create whichever of `topics` do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=partitions, replication_factor=replication_factor)
            for name in topics
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another process was first
                await admin.create_topics(wanted)
    finally:
        await admin.close()


async def kafka_metadata_ok(bootstrap_servers: str, timeout_seconds: float = 2.0) -> bool:
    """True when the cluster answers a metadata request within the timeout."""
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_seconds * 1000)
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_seconds)
        return bool(client.cluster.brokers())
    except Exception:
        return False
    finally:
        await client.close()
