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
from ruta_shared.testing.faults import (
    ServiceProcess,
    check_opened_once,
    intake_process,
    load,
    retry_until_done,
)

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
    process, headers = intake_process(
        kafka=kafka_bootstrap,
        mongo_url=ferretdb.url,
        workdir=tmp_path,
        database=f"intake_{uuid.uuid4().hex[:8]}",
        port=free_port(),
        mongo_timeout_ms=str(TIMEOUT_MS),
        idempotency_lease_seconds="3",
    )
    process.start()
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
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(ferretdb.url, tz_aware=True)
    try:
        db = mongo[process.env["RUTA_MONGO_DATABASE"]]
        await check_opened_once(db, kafka_bootstrap, attempts)
    finally:
        await mongo.close()


async def _probe_outage(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    """One plain read while the database is down."""
    return await client.get("/cases", headers=headers)
