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
from ruta_shared.testing.faults import check_opened_once, intake_process, load, retry_until_done

pytestmark = pytest.mark.integration

Doc = dict[str, Any]


async def test_killed_intake_leaves_no_key_claimed_and_no_case_twice(
    kafka_bootstrap: str, mongo_url: str, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:8]
    database = f"intake_{unique}"
    process, headers = intake_process(
        kafka=kafka_bootstrap,
        mongo_url=mongo_url,
        workdir=tmp_path,
        database=database,
        port=free_port(),
        idempotency_lease_seconds="3",
    )
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = mongo[database]
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
        await check_opened_once(db, kafka_bootstrap, attempts)
    finally:
        process.stop()
        await mongo.drop_database(database)
        await mongo.close()
