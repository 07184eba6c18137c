"""Fixtures for intake's tests: an intake app on the session's Kafka and FerretDB, and tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from ruta_intake.main import create_app
from ruta_intake.settings import IntakeSettings
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings

Doc = dict[str, Any]


@dataclass
class Served:
    """A running intake app, an HTTP client for it, its database and a token factory."""

    app: FastAPI
    client: httpx.AsyncClient
    db: AsyncDatabase[Doc]
    token: Callable[..., str]

    def auth(self, role: Role = Role.CASE_WORKER, **overrides: Any) -> dict[str, str]:
        """Authorization header for a principal of `role`."""
        return {"Authorization": f"Bearer {self.token(role, **overrides)}"}


def security_settings(key_dir: Path, unique: str) -> SecuritySettings:
    """Test security settings whose generated keys live in `key_dir`."""
    return SecuritySettings(
        environment="test", key_dir=key_dir, auth_mongo_database=f"auth_{unique}"
    )


def token_factory(settings: SecuritySettings) -> Callable[..., str]:
    """Sign tokens the app accepts: `token(Role.COORDINATOR, offices=...)`."""
    keys = load_signing_keys(settings)

    def token(role: Role = Role.CASE_WORKER, **overrides: Any) -> str:
        values: dict[str, Any] = {
            "id": f"u-{role.value}",
            "role": role,
            "offices": frozenset({"lima"}) if role is Role.CASE_WORKER else frozenset(),
            "auth": "password",
        }
        values.update(overrides)
        return sign_token(
            Principal(**values),
            keys=keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            lifetime=timedelta(minutes=30),
        )

    return token


def intake_settings(kafka_bootstrap: str, mongo_url: str, database: str) -> IntakeSettings:
    """Intake settings on the session's servers, with a quick relay."""
    return IntakeSettings(
        environment="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=database,
        outbox_poll_interval_seconds=0.2,
    )


@pytest.fixture(scope="module")
async def served(
    kafka_bootstrap: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Served]:
    """One intake app per test module, its lifespan running (relay included)."""
    unique = uuid.uuid4().hex[:12]
    security = security_settings(tmp_path_factory.mktemp("keys"), unique)
    database = f"intake_{unique}"
    app = create_app(intake_settings(kafka_bootstrap, mongo_url, database), security=security)
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield Served(app=app, client=client, db=mongo[database], token=token_factory(security))
    await mongo.drop_database(database)
    await mongo.close()
