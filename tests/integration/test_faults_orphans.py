"""Personal data whose case never came to list it is shredded by intake's repair sweep."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from ruta_intake.main import create_app
from ruta_intake.runtime import Runtime
from ruta_intake.settings import IntakeSettings
from ruta_intake.victims.models import VictimCreate
from ruta_intake.victims.orphans import sweep_orphans
from ruta_intake.victims.personal_data import UNCOMMITTED, note_uncommitted
from ruta_intake.victims.registration import prepare_victims
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.faults import case_body
from ruta_shared.testing.tokens import bearer, principal

pytestmark = pytest.mark.integration

Doc = dict[str, Any]


async def test_sweep_shreds_uncommitted_personal_data_and_keys_only(
    kafka_bootstrap: str, mongo_url: str, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:8]
    security = SecuritySettings(
        environment="test", key_dir=tmp_path / "keys", auth_mongo_database=f"auth_{unique}"
    )
    settings = IntakeSettings(
        environment="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=f"intake_{unique}",
        run_outbox_relay=False,
    )
    app = create_app(settings, security=security)
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = mongo[settings.mongo_database]
    try:
        async with app.router.lifespan_context(app):
            runtime: Runtime = app.state.runtime
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
                opened = await client.post(
                    "/cases", json=case_body(1), headers=bearer(security, Role.CASE_WORKER)
                )
            assert opened.status_code == 201
            kept = opened.json()["victims"][0]["victim_id"]

            # An interrupted opening: the victim's data and key written, the case never.
            now = datetime.now(UTC)
            interrupted = await prepare_victims(
                runtime=runtime,
                principal=principal(Role.CASE_WORKER),
                case_id=str(uuid.uuid4()),
                office="lima",
                bodies=[VictimCreate.model_validate(case_body(2)["victims"][0])],
                prefixes=["body.victims.0"],
                intake_date=now.date(),
                now=now,
            )
            orphan = interrupted.victims[0]["victim_id"]
            # A key made for a relative whose data was never written (interrupted earlier).
            await note_uncommitted(
                runtime=runtime, subject_type="relative", subject_id="rel-x", case_id="case-x"
            )
            await runtime.data_keys.create("relative", "rel-x")
            orphan_index = (await db.victim_personal_data.find_one({"_id": orphan}) or {})[
                "document_index"
            ]

            # Notes younger than the grace period are left alone (a request may still run).
            assert await sweep_orphans(runtime=runtime) == 0
            assert await sweep_orphans(runtime=runtime, older_than=timedelta(0)) == 2

            assert await db.victim_personal_data.find_one({"_id": orphan}) is None
            keys = {k["subject"]: k for k in await db.data_keys.find({}).to_list()}
            assert keys[f"victim:{orphan}"]["wrapped"] is None
            assert keys["relative:rel-x"]["wrapped"] is None
            index = await db.victim_document_index.find_one({"_id": orphan_index})
            assert orphan not in (index or {}).get("victim_ids", [])
            # The committed victim keeps its data and key; every note is gone.
            assert await db.victim_personal_data.find_one({"_id": kept}) is not None
            assert keys[f"victim:{kept}"]["wrapped"] is not None
            assert await db[UNCOMMITTED].count_documents({}) == 0
    finally:
        await mongo.drop_database(settings.mongo_database)
        await mongo.drop_database(f"auth_{unique}")
        await mongo.close()
