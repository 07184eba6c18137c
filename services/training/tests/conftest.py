"""Fixtures for training's tests: the app on the session's Kafka and FerretDB, and tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pymongo import MongoClient
from pymongo.database import Database
from ruta_shared.events import EventEnvelope
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.kafka import read_topic
from ruta_shared.topics import TRAINING_EVENTS
from ruta_training.main import create_app
from ruta_training.settings import TrainingSettings

Doc = dict[str, Any]


@dataclass
class Training:
    """A running training app, a client, its database (sync, for checks) and tokens."""

    app: FastAPI
    client: TestClient
    db: Database[Doc]
    security: SecuritySettings
    kafka_bootstrap: str

    def token(self, role: Role = Role.TRAINER, **overrides: Any) -> str:
        """A bearer token for a principal of `role` (trainers work in Lima by default)."""
        values: dict[str, Any] = {
            "id": f"u-{role.value}",
            "role": role,
            "offices": frozenset({"lima"}) if role is Role.TRAINER else frozenset(),
            "auth": "password",
        }
        values.update(overrides)
        return sign_token(
            Principal(**values),
            keys=load_signing_keys(self.security),
            issuer=self.security.jwt_issuer,
            audience=self.security.jwt_audience,
            lifetime=timedelta(minutes=30),
        )

    def auth(self, role: Role = Role.TRAINER, **overrides: Any) -> dict[str, str]:
        """Authorization header for a principal of `role`."""
        return {"Authorization": f"Bearer {self.token(role, **overrides)}"}

    def trainer(self, *offices: str) -> dict[str, str]:
        """Authorization header for a trainer of `offices` (a distinct user per set)."""
        return self.auth(
            Role.TRAINER, id=f"u-trainer-{'-'.join(offices)}", offices=frozenset(offices)
        )

    def register(self, headers: dict[str, str], **fields: Any) -> Any:
        """POST /participants (Ana Quispe of Lima unless `fields` say otherwise)."""
        body = {"office": "lima", "given_names": "Ana", "family_names": "Quispe", **fields}
        return self.client.post("/participants", json=body, headers=headers)

    def attended(self, headers: dict[str, str], office: str, *participant_ids: str) -> str:
        """A new session of `office` the participants attended; its id."""
        body = session_body(office=office)
        sid = str(self.client.post("/sessions", json=body, headers=headers).json()["id"])
        for pid in participant_ids:
            recorded = self.client.post(
                f"/sessions/{sid}/attendance", json={"participant_id": pid}, headers=headers
            )
            assert recorded.status_code in (200, 201), recorded.text
        return sid

    def drained(self, timeout: float = 30.0) -> None:
        """Wait until the relay has published every pending event."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = sum(
                self.db[name].count_documents({"_outbox_pending": True})
                for name in ("sessions", "participants", "participant_duplicates", "access_log")
            )
            if pending == 0:
                return
            time.sleep(0.1)
        msg = "the outbox relay did not drain"
        raise AssertionError(msg)

    def events(self, subject: str | None = None) -> list[EventEnvelope]:
        """Every training event published so far (of one session when `subject` is given)."""
        self.drained()
        records = asyncio.run(read_topic(self.kafka_bootstrap, TRAINING_EVENTS, idle=1.0))
        found = [EventEnvelope.model_validate_json(r.value) for r in records if r.value]
        return [e for e in found if subject is None or e.subject == subject]


def session_body(**overrides: Any) -> dict[str, Any]:
    """A valid session to schedule (a two-day workshop in Lima)."""
    body: dict[str, Any] = {
        "office": "lima",
        "title": "Taller de identificación de víctimas de trata",
        "format": "workshop",
        "topics": ["trafficking"],
        "audiences": ["justice_operators"],
        "region": "15",
        "modality": "in_person",
        "venue": "Auditorio del Ministerio Público",
        "starts_on": "2017-05-03",
        "ends_on": "2017-05-04",
        "pedagogic_hours": 10,
        "project_code": "PRJ-2017-01",
    }
    body.update(overrides)
    return body


@pytest.fixture
def new_session_body() -> Callable[..., dict[str, Any]]:
    """Factory of valid session bodies."""
    return session_body


@pytest.fixture
def training(
    kafka_bootstrap: str, mongo_url: str, unique: str, tmp_path: Path
) -> Iterator[Training]:
    """The training app running (lifespan and relay) on its own database."""
    database = f"training_{unique}"
    security = SecuritySettings(
        environment="test", key_dir=tmp_path / "keys", auth_mongo_database=f"auth_{unique}"
    )
    settings = TrainingSettings(
        environment="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=database,
        outbox_poll_interval_seconds=0.2,
    )
    app = create_app(settings, security=security)
    mongo: MongoClient[Doc] = MongoClient(mongo_url, tz_aware=True)
    try:
        with TestClient(app) as client:
            yield Training(
                app=app,
                client=client,
                db=mongo[database],
                security=security,
                kafka_bootstrap=kafka_bootstrap,
            )
    finally:
        mongo.drop_database(database)
        mongo.close()
