"""intake killed (SIGKILL) under load: every retried case opens once, no key stays claimed."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from ruta_local.infra import free_port
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


async def test_killed_intake_leaves_no_key_claimed_and_no_case_twice(
    kafka_bootstrap: str, mongo_url: str, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:8]
    key_dir = tmp_path / "keys"
    process = ServiceProcess(
        app="ruta_intake.main:create_app",
        port=free_port(),
        env=service_env(
            kafka=kafka_bootstrap,
            mongo_url=mongo_url,
            database=f"intake_{unique}",
            key_dir=key_dir,
            auth_database=f"auth_{unique}",
            idempotency_lease_seconds="3",
        ),
        log_path=tmp_path / "intake.log",
    )
    headers = bearer(SecuritySettings(environment="test", key_dir=key_dir), Role.CASE_WORKER)
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = mongo[f"intake_{unique}"]
    process.start()
    try:
        stop = asyncio.Event()
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
            running = asyncio.create_task(
                load(client, headers, prefix=f"kill-{unique}", stop=stop, concurrency=6)
            )
            await asyncio.sleep(4)
            process.kill()
            stop.set()
            attempts = await running
            claimed = await db.idempotency_keys.count_documents({"state": "running"})
            await asyncio.to_thread(process.start)
            failed = [a for a in attempts if not a.succeeded]
            await retry_until_done(client, headers, attempts)
        print(
            f"\n{len(attempts)} requests, {len(failed)} without an answer, "
            f"{claimed} keys left claimed by the killed process"
        )
        assert failed, "the kill interrupted no request: the drill proved nothing"
        assert all(a.succeeded for a in attempts), [a.statuses for a in attempts]
        assert 500 not in {s for a in attempts for s in a.statuses}

        case_ids = {a.case_id for a in attempts if a.case_id is not None}
        assert len(case_ids) == len(attempts)
        stored = {doc["_id"] for doc in await db.cases.find({}, {"_id": 1}).to_list()}
        assert stored == case_ids
        assert await db.idempotency_keys.count_documents({"state": {"$ne": "done"}}) == 0

        async def drained() -> bool:
            return await db.cases.count_documents({"_outbox_pending": True}) == 0

        await wait_for(drained, timeout=60)
        events = await opened_events(kafka_bootstrap, INTAKE_EVENTS, case_ids)
        assert set(events) == case_ids
        assert all(len(ids) == 1 for ids in events.values())
    finally:
        process.stop()
        await mongo.drop_database(f"intake_{unique}")
        await mongo.close()
