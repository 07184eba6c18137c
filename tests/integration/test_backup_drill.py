"""The backup drill at a small size on the real servers: back up, wipe, restore, all back."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from ruta_analytics.projection.store import active_generation, project
from ruta_local.infra import free_port
from ruta_shared.events import EventEnvelope
from ruta_shared.testing.faults import case_body, intake_process
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
Doc = dict[str, Any]
CASES = 12


async def test_backup_drill_restores_data_keys_figures_and_audit_trails(
    kafka_bootstrap: str, mongo_url: str, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:8]
    key_dir = tmp_path / "keys"
    intake_db, analytics_db = f"intake_{unique}", f"analytics_{unique}"
    auth_db = f"auth_{intake_db}"
    intake, headers = intake_process(
        kafka=kafka_bootstrap,
        mongo_url=mongo_url,
        workdir=tmp_path,
        database=intake_db,
        port=free_port(),
    )
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        intake.start()
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as client:
            opened = [
                await client.post(
                    "/cases",
                    json=case_body(n),
                    headers={**headers, "Idempotency-Key": f"drill-{unique}-{n}"},
                )
                for n in range(CASES)
            ]
        assert [r.status_code for r in opened] == [201] * CASES
        case_ids = {r.json()["case_id"] for r in opened}

        async def drained() -> bool:
            return await mongo[intake_db].cases.count_documents({"_outbox_pending": True}) == 0

        await wait_for(drained, timeout=60)
        intake.stop()  # the drill runs with the services stopped
        # The analytics side: project the cases' events (figures and audit trails).
        records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, timeout=60, idle=3)
        envelopes = [EventEnvelope.model_validate_json(r.value) for r in records if r.value]
        ours = [e for e in envelopes if e.subject in case_ids]
        assert len({e.subject for e in ours}) == CASES
        await project(await active_generation(mongo[analytics_db]), ours)

        drill = await asyncio.to_thread(
            subprocess.run,
            [
                str(REPO / "scripts" / "backup-drill"),
                "--mongo-url",
                mongo_url,
                "--key-dir",
                str(key_dir),
                "--backup-dir",
                str(tmp_path / "backup" / "data"),
                "--databases",
                intake_db,
                analytics_db,
                auth_db,
                "--intake-database",
                intake_db,
                "--analytics-database",
                analytics_db,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        print(drill.stdout)
        assert drill.returncode == 0, drill.stdout + drill.stderr[-3000:]
        assert f"people readable: {CASES} (erased: 0)" in drill.stdout
        assert f"audit trails verified: {CASES}/{CASES}" in drill.stdout
        assert "FAIL" not in drill.stdout
        assert "backup: " in drill.stderr  # progress was shown
        # The restored database is the one the services use: the cases are there again.
        restored = {d["_id"] for d in await mongo[intake_db].cases.find({}, {"_id": 1}).to_list()}
        assert restored == case_ids
        assert (tmp_path / "backup" / "keys").is_dir()
    finally:
        intake.stop()
        for database in (intake_db, analytics_db, auth_db):
            await mongo.drop_database(database)
        await mongo.close()
