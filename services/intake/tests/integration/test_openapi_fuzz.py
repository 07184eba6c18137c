"""Schemathesis over intake's OpenAPI document: no server error, no response breaking the schema.

The app runs under uvicorn on 127.0.0.1 (its lifespan, relay and database included); every
operation gets generated requests with a coordinator's token, half of them on a real case,
victim, relative and consent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from ruta_intake.main import create_app
from ruta_intake.settings import IntakeSettings
from ruta_local.infra import free_port
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.openapi import LiveServer, fuzz
from ruta_shared.testing.tokens import bearer

pytestmark = pytest.mark.integration


def _existing_ids(base_url: str, auth: dict[str, str]) -> dict[str, list[str]]:
    """Open a case with a victim, a relative and a consent; their ids by path parameter."""
    with httpx.Client(base_url=base_url, headers=auth, timeout=20) as client:
        opened = client.post(
            "/cases",
            json={
                "office": "lima",
                "crime_types": ["trafficking"],
                "exploitation_purposes": ["labour"],
                "arrival_channel": "institution_referral",
                "referring_institution_kind": "prosecutor",
                "victims": [{"sex": "male", "personal_data": {"given_names": "Prueba"}}],
            },
        )
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        victim_id = opened.json()["victims"][0]["victim_id"]
        relative = client.post(
            f"/cases/{case_id}/victims/{victim_id}/relatives",
            json={"relationship": "parent", "personal_data": {"given_names": "Tutora"}},
        )
        assert relative.status_code == 201, relative.text
        consent = client.post(
            f"/cases/{case_id}/victims/{victim_id}/consents",
            json={"purpose": "data_processing", "given_by": "victim", "granted": True},
        )
        assert consent.status_code == 201, consent.text
    return {
        "case_id": [case_id],
        "victim_id": [victim_id],
        "relative_id": [relative.json()["relative_id"]],
        "consent_id": [consent.json()["consent_id"]],
    }


@pytest.fixture(scope="module")
def intake_api(
    kafka_bootstrap: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str], dict[str, list[str]]]]:
    unique = uuid.uuid4().hex[:12]
    security = SecuritySettings(
        environment="test",
        key_dir=tmp_path_factory.mktemp("fuzz-keys"),
        auth_mongo_database=f"auth_{unique}",
    )
    database = f"intake_fuzz_{unique}"
    settings = IntakeSettings(
        environment="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=database,
    )
    auth = bearer(security, Role.COORDINATOR, offices=())
    with LiveServer(create_app(settings, security=security), free_port()) as server:
        yield server.url, auth, _existing_ids(server.url, auth)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    client.drop_database(database)
    client.drop_database(security.auth_mongo_database)
    client.close()


def test_no_server_error_and_responses_match_the_schema(
    intake_api: tuple[str, dict[str, str], dict[str, list[str]]],
) -> None:
    base_url, auth, ids = intake_api
    report = fuzz(base_url, headers=lambda _: auth, path_values=ids, examples=12)
    print(report.describe())
    # The run reached the routes, not only the validation and permission layers.
    assert report.calls >= 200
    assert sum(n for status, n in report.statuses.items() if 200 <= status < 300) >= 40
    assert report.statuses[404] > 0
    assert report.violations == 0, report.describe()
