"""Schemathesis over training's OpenAPI document: no server error, no response breaking the schema.

The app runs under uvicorn on 127.0.0.1 (its lifespan and relay included); every operation
gets generated requests with a trainer's token, half of them on a real session and participant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from ruta_local.infra import free_port
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.openapi import LiveServer, fuzz
from ruta_shared.testing.tokens import bearer
from ruta_training.main import create_app
from ruta_training.settings import TrainingSettings

pytestmark = pytest.mark.integration

Served = tuple[str, dict[str, str], dict[str, list[str]]]


@pytest.fixture
def served(
    kafka_bootstrap: str,
    mongo_url: str,
    unique: str,
    tmp_path: Path,
    new_session_body: Callable[..., dict[str, Any]],
) -> Iterator[Served]:
    """The training app served over HTTP, a trainer's token, and a real session and participant."""
    database = f"training_api_{unique}"
    security = SecuritySettings(
        environment="test", key_dir=tmp_path / "keys", auth_mongo_database=f"auth_{unique}"
    )
    settings = TrainingSettings(
        environment="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=database,
    )
    trainer = bearer(security, Role.TRAINER)
    try:
        with LiveServer(create_app(settings, security=security), free_port()) as server:
            with httpx.Client(base_url=server.url, headers=trainer, timeout=20) as client:
                session = client.post("/sessions", json=new_session_body())
                assert session.status_code == 201, session.text
                participant = client.post(
                    "/participants",
                    json={
                        "office": "lima",
                        "given_names": "Participante",
                        "family_names": "De Prueba",
                        "document_number": "40999111",
                    },
                )
                assert participant.status_code == 201, participant.text
            ids = {
                "session_id": [session.json()["id"]],
                "participant_id": [participant.json()["id"]],
            }
            yield server.url, trainer, ids
    finally:
        mongo: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
        mongo.drop_database(database)
        mongo.drop_database(security.auth_mongo_database)
        mongo.close()


def test_no_server_error_and_responses_match_the_schema(served: Served) -> None:
    base_url, trainer, ids = served
    report = fuzz(
        base_url,
        # The certificate check is public: it is called without credentials, as the public does.
        headers=lambda op: {} if op.path.startswith("/certificates/verify") else trainer,
        path_values=ids,
        examples=15,
    )
    print(report.describe())
    # The run reached the routes, not only the validation and permission layers.
    assert report.calls >= 18 * 15
    assert sum(n for status, n in report.statuses.items() if 200 <= status < 300) >= 30
    assert report.statuses[404] > 0
    assert report.violations == 0, report.describe()
