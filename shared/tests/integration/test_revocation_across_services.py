"""Disabling a user or revoking a partner credential on intake ends their tokens on every service.

Intake's and referrals' own apps, built by their composition roots, run against the
session's FerretDB and Kafka and share one auth database, as in production.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
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
from ruta_shared.security.partners import PartnerCredentialStore
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserStore
from ruta_shared.testing.kafka import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

Doc = dict[str, Any]
PASSWORD = "una-clave-larga-de-prueba-3"
WITHIN_SECONDS = 5.0
Clients = dict[str, httpx.AsyncClient]


@pytest.fixture
async def services(
    mongo_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> AsyncIterator[tuple[Clients, AsyncDatabase[Doc]]]:
    """Intake (the issuer) and referrals, each with its lifespan running."""
    security = SecuritySettings(
        environment="test", key_dir=tmp_path / "keys", auth_mongo_database=f"auth_{unique}"
    )
    common: Doc = {
        "environment": "test",
        "mongo_url": mongo_url,
        "kafka_bootstrap_servers": kafka_bootstrap,
        "run_outbox_relay": False,
    }
    apps: dict[str, FastAPI] = {
        "intake": create_intake_app(
            IntakeSettings(**common, mongo_database=f"intake_{unique}"), security=security
        ),
        "referrals": create_referrals_app(
            ReferralsSettings(
                **common,
                mongo_database=f"referrals_{unique}",
                consumer_group_prefix=f"test-revocation-{unique}",
            ),
            security=security,
        ),
    }
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    async with contextlib.AsyncExitStack() as stack:
        clients: Clients = {}
        for name, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
            )
        yield clients, mongo[security.auth_mongo_database]
    for database in (f"auth_{unique}", f"intake_{unique}", f"referrals_{unique}"):
        await mongo.drop_database(database)
    await mongo.close()


async def token(intake: httpx.AsyncClient, **form: str) -> dict[str, str]:
    response = await intake.post("/auth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def statuses(clients: Clients, path: str, headers: dict[str, str]) -> dict[str, int]:
    return {name: (await c.get(path, headers=headers)).status_code for name, c in clients.items()}


async def refused_everywhere(clients: Clients, path: str, headers: dict[str, str]) -> None:
    async def refused() -> bool:
        return set((await statuses(clients, path, headers)).values()) == {401}

    await wait_for(refused, timeout=WITHIN_SECONDS, interval=0.1)


async def test_a_disabled_users_token_is_refused_on_every_service_within_seconds(
    services: tuple[Clients, AsyncDatabase[Doc]],
) -> None:
    clients, auth_db = services
    intake = clients["intake"]
    await UserStore(auth_db).create(
        username="admin", password=PASSWORD, role=Role.ADMIN, offices=["lima"]
    )
    admin = await token(intake, grant_type="password", username="admin", password=PASSWORD)
    body = {"username": "cw.lima", "role": "case_worker", "offices": ["lima"]}
    created = await intake.post("/admin/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    code = created.json()["password_code"]["code"]
    assert (
        await intake.post("/auth/password", json={"code": code, "password": PASSWORD})
    ).status_code == 204
    worker = await token(intake, grant_type="password", username="cw.lima", password=PASSWORD)
    # Real reads of each service's data, not only /me: both answer the worker now.
    assert await statuses(clients, "/me", worker) == {"intake": 200, "referrals": 200}
    assert (await intake.get("/cases", headers=worker)).status_code == 200
    assert (await clients["referrals"].get("/referrals", headers=worker)).status_code == 200

    disabled = await intake.post(f"/admin/users/{created.json()['id']}/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text
    await refused_everywhere(clients, "/me", worker)
    assert (await intake.get("/cases", headers=worker)).status_code == 401
    refused = await clients["referrals"].get("/referrals", headers=worker)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "deshabilitada" in refused.json()["detail"]
    # The admin's own token is untouched.
    assert await statuses(clients, "/me", admin) == {"intake": 200, "referrals": 200}


async def test_a_revoked_partner_credential_is_refused_on_every_service_within_seconds(
    services: tuple[Clients, AsyncDatabase[Doc]],
) -> None:
    clients, auth_db = services
    store = PartnerCredentialStore(auth_db)
    issued = await store.issue("fistrap-lima")
    partner = await token(
        clients["intake"],
        grant_type="client_credentials",
        client_id=issued.client_id,
        client_secret=issued.client_secret,
    )
    api_key = {"X-API-Key": issued.api_key}
    assert await statuses(clients, "/me", partner) == {"intake": 200, "referrals": 200}
    assert (
        await clients["referrals"].get("/partner/referrals", headers=partner)
    ).status_code == 200
    assert (
        await clients["referrals"].get("/partner/referrals", headers=api_key)
    ).status_code == 200

    assert await store.revoke("fistrap-lima")
    await refused_everywhere(clients, "/me", partner)
    assert (
        await clients["referrals"].get("/partner/referrals", headers=partner)
    ).status_code == 401
    assert (
        await clients["referrals"].get("/partner/referrals", headers=api_key)
    ).status_code == 401
    # A new credential for the institution does not revive tokens of the old one.
    fresh = await store.issue("fistrap-lima")
    assert fresh.client_id != issued.client_id
    assert set((await statuses(clients, "/me", partner)).values()) == {401}
