"""The database stops under load: 503 with Retry-After; every retried case then opens once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from ruta_local.infra import FerretDBServer, free_port
from ruta_local.pytest_plugin import start_ferretdb
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.faults import (
    ServiceProcess,
    load,
    opened_events,
    retry_until_done,
    service_env,
)
from ruta_shared.testing.kafka import wait_for
from ruta_shared.testing.tokens import bearer
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
TIMEOUT_MS = 2000  # the bound under test: a request waits at most this for the database


@pytest.fixture
def ferretdb(tmp_path: Path) -> Iterator[FerretDBServer]:
    """A FerretDB of this test's own, which the test stops and starts again."""
    server = start_ferretdb(tmp_path / "ferretdb")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def intake(
    ferretdb: FerretDBServer, kafka_bootstrap: str, tmp_path: Path
) -> AsyncIterator[tuple[ServiceProcess, dict[str, str]]]:
    unique = uuid.uuid4().hex[:8]
    key_dir = tmp_path / "keys"
    process = ServiceProcess(
        app="ruta_intake.main:create_app",
        port=free_port(),
        env=service_env(
            kafka=kafka_bootstrap,
            mongo_url=ferretdb.url,
            database=f"intake_{unique}",
            key_dir=key_dir,
            auth_database=f"auth_{unique}",
            mongo_timeout_ms=str(TIMEOUT_MS),
            idempotency_lease_seconds="3",
        ),
        log_path=tmp_path / "intake.log",
    )
    process.start()
    headers = bearer(SecuritySettings(environment="test", key_dir=key_dir), Role.CASE_WORKER)
    try:
        yield process, headers
    finally:
        process.stop()


async def test_database_outage_answers_503_and_every_retried_case_opens_once(
    intake: tuple[ServiceProcess, dict[str, str]], ferretdb: FerretDBServer, kafka_bootstrap: str
) -> None:
    process, headers = intake
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
        running = asyncio.create_task(load(client, headers, prefix="outage", stop=stop))
        await asyncio.sleep(3)
        await asyncio.to_thread(ferretdb.stop)  # under load: some requests are mid-write
        await asyncio.sleep(8)
        during = await _probe_outage(client, headers)
        await asyncio.to_thread(ferretdb.start)
        await asyncio.sleep(2)
        stop.set()
        attempts = await running
        failed = [a for a in attempts if not a.succeeded]
        await retry_until_done(client, headers, attempts)

    # During the outage: 503 in Spanish with Retry-After, never a 500.
    assert during.status_code == 503
    assert during.headers["Retry-After"] == "5"
    assert "base de datos" in during.json()["detail"]
    assert failed, "the outage interrupted no request: the drill proved nothing"
    answered = [s for a in attempts for s in a.statuses if s is not None]
    assert 500 not in answered
    assert set(answered) <= {201, 409, 503}, [a.refusals for a in attempts if a.refusals]
    unavailable = [
        latency
        for a in attempts
        for status, latency in zip(a.statuses, a.latencies, strict=True)
        if status == 503
    ]
    print(
        f"\n{len(attempts)} requests, {len(failed)} retried, {len(unavailable)} answered 503; "
        f"slowest 503 {max(unavailable, default=0):.2f}s (database timeout {TIMEOUT_MS} ms)"
    )

    # Every operation ended exactly once: one case per key, one case.opened per case.
    assert all(a.succeeded for a in attempts), [a.statuses for a in attempts if not a.succeeded]
    case_ids = {a.case_id for a in attempts if a.case_id is not None}
    assert len(case_ids) == len(attempts)
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(ferretdb.url, tz_aware=True)
    try:
        db = mongo[process.env["RUTA_MONGO_DATABASE"]]
        stored = {doc["_id"] for doc in await db.cases.find({}, {"_id": 1}).to_list()}
        assert stored == case_ids

        async def drained() -> bool:
            return await db.cases.count_documents({"_outbox_pending": True}) == 0

        await wait_for(drained, timeout=60)
        events = await opened_events(kafka_bootstrap, INTAKE_EVENTS, case_ids)
        assert set(events) == case_ids
        assert all(len(ids) == 1 for ids in events.values())
        # No idempotency key is left claimed for good.
        assert await db.idempotency_keys.count_documents({"state": {"$ne": "done"}}) == 0
    finally:
        await mongo.close()


async def _probe_outage(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    """One plain read while the database is down."""
    return await client.get("/cases", headers=headers)
