"""Partner credentials administered over HTTP on intake, used on referrals' partner API.

Intake's and referrals' own apps, built by their composition roots, run against the
session's FerretDB and Kafka and share one auth database, as in production.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from ruta_intake.main import create_app as create_intake_app
from ruta_intake.settings import IntakeSettings
from ruta_referrals.main import create_app as create_referrals_app
from ruta_referrals.settings import ReferralsSettings
from ruta_shared.events import EVENTS
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserStore
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.testing.leak_check import LeakChecker
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

Doc = dict[str, Any]
PASSWORD = "una-clave-larga-de-prueba-3"
WITHIN_SECONDS = 5.0
PARTNER_API = "/partner/referrals"


@pytest.fixture
async def services(
    mongo_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, AsyncDatabase[Doc]]]:
    """Intake (the issuer, its relay publishing) and referrals, each with its lifespan running."""
    security = SecuritySettings(
        environment="test", key_dir=tmp_path / "keys", auth_mongo_database=f"auth_{unique}"
    )
    common: Doc = {
        "environment": "test",
        "mongo_url": mongo_url,
        "kafka_bootstrap_servers": kafka_bootstrap,
    }
    apps: dict[str, FastAPI] = {
        "intake": create_intake_app(
            IntakeSettings(
                **common, mongo_database=f"intake_{unique}", outbox_poll_interval_seconds=0.2
            ),
            security=security,
        ),
        "referrals": create_referrals_app(
            ReferralsSettings(
                **common,
                mongo_database=f"referrals_{unique}",
                consumer_group_prefix=f"test-pcred-{unique}",
                run_outbox_relay=False,
            ),
            security=security,
        ),
    }
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for name, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
            )
        yield clients["intake"], clients["referrals"], mongo[security.auth_mongo_database]
    for database in (f"auth_{unique}", f"intake_{unique}", f"referrals_{unique}"):
        await mongo.drop_database(database)
    await mongo.close()


async def bearer(intake: httpx.AsyncClient, auth_db: AsyncDatabase[Doc], role: Role) -> Doc:
    """A token of a fresh account with `role` (an office unless a partner's person)."""
    username = f"u.{role.value}"
    partner = role is Role.PARTNER
    extra: Doc = (
        {"offices": [], "institution_id": "otra-inst"} if partner else {"offices": ["lima"]}
    )
    await UserStore(auth_db).create(username=username, password=PASSWORD, role=role, **extra)
    form = {"grant_type": "password", "username": username, "password": PASSWORD}
    response = await intake.post("/auth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def partner_status(referrals: httpx.AsyncClient, api_key: str) -> int:
    return (await referrals.get(PARTNER_API, headers={"X-API-Key": api_key})).status_code


async def test_issue_rotate_revoke_over_http_with_events_and_no_secret_in_logs(
    services: tuple[httpx.AsyncClient, httpx.AsyncClient, AsyncDatabase[Doc]],
    kafka_bootstrap: str,
) -> None:
    intake, referrals, auth_db = services
    admin = await bearer(intake, auth_db, Role.ADMIN)
    base = "/admin/partners/fistrap-lima/credentials"
    leaks = LeakChecker()
    with leaks.capture_logs() as logs:
        assert (await intake.get(base, headers=admin)).json() == []
        issued = await intake.post(base, headers=admin)
        assert issued.status_code == 201, issued.text
        first = issued.json()
        leaks.add_needle("first secret", first["client_secret"])
        assert first["api_key"] == f"{first['client_id']}.{first['client_secret']}"
        assert await partner_status(referrals, first["api_key"]) == 200
        again = await intake.post(base, headers=admin)
        assert again.status_code == 409
        assert "rótela" in again.json()["detail"]

        listed = (await intake.get(base, headers=admin)).json()
        assert len(listed) == 1
        assert {"client_secret", "api_key"}.isdisjoint(listed[0])
        assert first["client_secret"] not in str(listed)
        assert listed[0]["client_id"] == first["client_id"]
        assert listed[0]["revoked_at"] is None

        # With a grace, the old key keeps working next to the new one...
        rotated = await intake.post(f"{base}/rotate", json={"grace_minutes": 30}, headers=admin)
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()
        leaks.add_needle("second secret", second["client_secret"])
        assert second["client_id"] == first["client_id"]
        assert second["client_secret"] != first["client_secret"]
        assert await partner_status(referrals, first["api_key"]) == 200
        assert await partner_status(referrals, second["api_key"]) == 200
        graced = [s for s in second["secrets"] if s["grace_until"] is not None]
        assert len(graced) == 1
        assert second["rotated_at"] is not None
        # ...and is refused once the grace has ended (moved to the past: no 30-minute wait).
        stored = await auth_db["partner_credentials"].find_one({"_id": "fistrap-lima"})
        assert stored is not None
        past = datetime.now(UTC) - timedelta(seconds=1)
        ended = [
            {**e, "expires_at": past} if e["id"] == graced[0]["id"] else e
            for e in stored["secrets"]
        ]
        await auth_db["partner_credentials"].update_one(
            {"_id": "fistrap-lima"}, {"$set": {"secrets": ended}}
        )
        assert await partner_status(referrals, first["api_key"]) == 401
        assert await partner_status(referrals, second["api_key"]) == 200

        # Without a grace (no body), the previous key stops at once.
        third = (await intake.post(f"{base}/rotate", headers=admin)).json()
        leaks.add_needle("third secret", third["client_secret"])
        assert await partner_status(referrals, second["api_key"]) == 401
        assert await partner_status(referrals, third["api_key"]) == 200

        revoked = await intake.post(f"{base}/revoke", headers=admin)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked_at"] is not None
        assert revoked.json()["secrets"] == []

        async def refused() -> bool:
            return await partner_status(referrals, third["api_key"]) == 401

        await wait_for(refused, timeout=WITHIN_SECONDS, interval=0.1)
        not_active = await intake.post(f"{base}/rotate", headers=admin)
        assert not_active.status_code == 409
        assert "no tiene una credencial activa" in not_active.json()["detail"]
    assert "partner credential revoked" in logs.getvalue()

    expected = [
        "partner_credential.issued",
        "partner_credential.rotated",
        "partner_credential.rotated",
        "partner_credential.revoked",
    ]
    found: list[Any] = []

    async def published() -> bool:
        records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, timeout=5, idle=0.5)
        found[:] = [e for r in records if (e := EVENTS.decode(r.value)).subject == "fistrap-lima"]
        return len(found) >= len(expected)

    await wait_for(published, timeout=30, interval=0.5)
    assert [e.type for e in found] == expected
    assert {e.actor.role for e in found} == {"admin"}
    assert [e.data["grace_minutes"] for e in found if e.type.endswith("rotated")] == [30, 0]
    await leaks.scan_kafka(kafka_bootstrap, topics=[INTAKE_EVENTS])
    stored = await auth_db["partner_credentials"].find_one({"_id": "fistrap-lima"})
    assert stored is not None
    for secret in (first, second, third):
        assert secret["client_secret"] not in str(stored)
    leaks.assert_clean()


async def test_non_admins_are_refused_and_bad_input_names_the_field(
    services: tuple[httpx.AsyncClient, httpx.AsyncClient, AsyncDatabase[Doc]],
) -> None:
    intake, _, auth_db = services
    base = "/admin/partners/fistrap-lima/credentials"
    for role in (Role.CASE_WORKER, Role.COORDINATOR, Role.AUDITOR, Role.PARTNER):
        headers = await bearer(intake, auth_db, role)
        for method, path in (("GET", base), ("POST", base), ("POST", f"{base}/revoke")):
            response = await intake.request(method, path, headers=headers)
            assert response.status_code == 403, (role, method, path, response.text)
    assert (await intake.get(base)).status_code == 401
    admin = await bearer(intake, auth_db, Role.ADMIN)
    assert (await intake.post(base, headers=admin)).status_code == 201
    for body in ({"grace_minutes": -1}, {"grace_minutes": "mucho"}, {"grace_minutes": 10**6}):
        bad = await intake.post(f"{base}/rotate", json=body, headers=admin)
        assert bad.status_code == 422, (body, bad.text)
        assert bad.json()["errors"][0]["field"] == "body.grace_minutes"
    odd = await intake.get("/admin/partners/no%20vale/credentials", headers=admin)
    assert odd.status_code == 404
    assert odd.json()["errors"][0]["field"] == "path.institution_id"
    missing = await intake.post("/admin/partners/nadie/credentials/revoke", headers=admin)
    assert missing.status_code == 404
    assert "no tiene una credencial" in missing.json()["detail"]
