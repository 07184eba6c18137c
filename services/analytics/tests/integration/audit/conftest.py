"""Fixtures of the audit tests: an app with its own checkpoint topic and keys, and a ledger
helper that publishes events on the real Kafka, projects them with their origins and seals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from ruta_analytics.audit.rules import GENESIS, entry_hash
from ruta_analytics.main import create_app
from ruta_analytics.projection.models import AUDIT, AUDIT_HEADS
from ruta_analytics.projection.store import Generation, project
from ruta_analytics.settings import AnalyticsSettings
from ruta_shared.events import EVENTS, EventEnvelope
from ruta_shared.kafka.admin import ensure_topics
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.synthetic import StreamBuilder

Doc = dict[str, Any]
START = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def audit_settings(settings: AnalyticsSettings, tmp_path: Path, unique: str) -> AnalyticsSettings:
    """The test's settings with its own checkpoint topic and audit key directory."""
    return settings.model_copy(
        update={
            "audit_checkpoint_topic": f"t{unique}.checkpoints",
            "audit_key_dir": tmp_path / "audit-keys",
        }
    )


async def open_api(
    settings: AnalyticsSettings, security: SecuritySettings
) -> AsyncIterator[httpx.AsyncClient]:
    """An analytics app (lifespan running) called in-process."""
    app: FastAPI = create_app(settings, security=security)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analytics") as client:
            yield client


@dataclass
class Ledger:
    """Drives the ledger of one test: events in through Kafka, seals and checks through the API."""

    client: httpx.AsyncClient
    generation: Generation
    producer: AIOKafkaProducer
    topic: str
    token_for: Callable[[Role], str]

    def with_client(self, client: httpx.AsyncClient) -> Ledger:
        """The same ledger seen through another app."""
        return replace(self, client=client)

    def headers(self, role: Role = Role.AUDITOR) -> dict[str, str]:
        """Bearer headers of a user of `role`."""
        return {"Authorization": f"Bearer {self.token_for(role)}"}

    @property
    def db(self) -> AsyncDatabase[Doc]:
        """The test's database."""
        return self.generation.db

    async def add(self, envelopes: list[EventEnvelope]) -> None:
        """Publish the events on Kafka and project them with where they were written."""
        origins = {}
        for envelope in envelopes:
            sent = await self.producer.send_and_wait(
                self.topic, EVENTS.encode(envelope), key=envelope.key
            )
            origins[str(envelope.id)] = {
                "topic": sent.topic,
                "partition": sent.partition,
                "offset": sent.offset,
            }
        await project(self.generation, envelopes, origins=origins)

    async def new_case(self, victims: int = 4) -> tuple[str, StreamBuilder]:
        """A case opened with `victims` victims, on Kafka and in the ledger."""
        builder = StreamBuilder()
        case_id = builder.open_case(at=START)
        for number in range(victims):
            builder.register_victim(case_id, at=START + timedelta(days=number + 1))
        await self.add(builder.envelopes)
        return case_id, builder

    async def seal(self) -> Doc:
        """An admin seals a checkpoint now."""
        response = await self.client.post("/audit/checkpoints", headers=self.headers(Role.ADMIN))
        assert response.status_code == 201, response.text
        body: Doc = response.json()
        return body

    async def verify(self, trail: str) -> Doc:
        """The API's verification of a trail."""
        response = await self.client.get(f"/audit/trails/{trail}/verify", headers=self.headers())
        assert response.status_code == 200, response.text
        body: Doc = response.json()
        return body

    @staticmethod
    def reasons(body: Doc) -> set[str]:
        """The names of the problems a verification reported."""
        return {problem["reason"] for problem in body["problems"]}

    async def entries(self, trail: str) -> list[Doc]:
        """A trail's entries as stored, in position order."""
        head = await self.head(trail)
        assert head is not None
        ledger = self.generation.collection(AUDIT)
        return [await ledger.find_one({"_id": i}) for i in head["entries"]]  # type: ignore[misc]

    async def head(self, trail: str) -> Doc | None:
        """A chain's head as stored."""
        return await self.generation.collection(AUDIT_HEADS).find_one({"_id": trail})

    async def rewrite(self, trail: str, entries: list[Doc]) -> None:
        """What a careful attacker does: renumber and rehash `entries` as the whole chain,
        replace the stored chain with them and move the head."""
        ledger = self.generation.collection(AUDIT)
        for old in await self.entries(trail):
            await ledger.delete_one({"_id": old["_id"]})
        prev = GENESIS
        for position, entry in enumerate(entries, start=1):
            entry.update(position=position, prev_hash=prev)
            entry["hash"] = entry_hash(
                chain=trail, position=position, prev_hash=prev, event=entry["event"]
            )
            prev = entry["hash"]
            await ledger.insert_one(entry)
        await self.generation.collection(AUDIT_HEADS).update_one(
            {"_id": trail},
            {
                "$set": {
                    "position": len(entries),
                    "hash": prev,
                    "entries": [e["_id"] for e in entries],
                }
            },
        )


@pytest.fixture
def open_api_for() -> Callable[
    [AnalyticsSettings, SecuritySettings], AsyncIterator[httpx.AsyncClient]
]:
    """`async for client in open_api_for(settings, security)`: another app on the same ledger."""
    return open_api


@pytest.fixture
async def ledger(
    audit_settings: AnalyticsSettings,
    security_settings: SecuritySettings,
    generation: Generation,
    kafka_bootstrap: str,
    unique: str,
    token_for: Callable[[Role], str],
) -> AsyncIterator[Ledger]:
    """The test's ledger helper, its app and its Kafka producer."""
    topic = f"t{unique}.intake.events"
    await ensure_topics(kafka_bootstrap, [topic], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async for client in open_api(audit_settings, security_settings):
            yield Ledger(client, generation, producer, topic, token_for)
    finally:
        await producer.stop()
