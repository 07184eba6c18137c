"""A schemathesis run over the OpenAPI document, against the app served over HTTP: no 5xx."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from pymongo import MongoClient
from ruta_local.infra import free_port
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_training.main import create_app
from ruta_training.settings import TrainingSettings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.integration


@pytest.fixture
def served(
    kafka_bootstrap: str, mongo_url: str, unique: str, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """The training app served by uvicorn (lifespan and relay in its own loop), and a token."""
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
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, security=security), host="127.0.0.1", port=port, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    token = sign_token(
        Principal(id="u-trainer", role=Role.TRAINER, offices=frozenset({"lima"}), auth="password"),
        keys=load_signing_keys(security),
        issuer=security.jwt_issuer,
        audience=security.jwt_audience,
        lifetime=timedelta(minutes=30),
    )
    try:
        yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        mongo: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
        mongo.drop_database(database)
        mongo.close()


def exercise(operation: Any, base_url: str, headers: dict[str, str]) -> int:
    """Send generated requests for one operation; fail on any server error. Returns calls."""
    calls = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def no_server_error(case: Any) -> None:
        nonlocal calls
        response = case.call(base_url=base_url, headers=headers, timeout=20)
        calls += 1
        case.validate_response(response, checks=[not_a_server_error])
        assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"

    no_server_error()
    return calls


def test_no_server_error_anywhere(served: tuple[str, dict[str, str]]) -> None:
    base_url, trainer = served
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    calls = 0
    for operation in operations:
        public = operation.path.startswith("/certificates/verify")
        calls += exercise(operation, base_url, {} if public else trainer)
    assert calls >= len(operations)
