"""Schemathesis over intake's OpenAPI document: no server error, no response breaking the schema.

The app runs under uvicorn on 127.0.0.1 (its lifespan, relay and database included) and every
operation gets a bounded number of generated requests with a coordinator's token.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from pymongo import MongoClient
from ruta_intake.main import create_app
from ruta_local.infra import free_port
from ruta_shared.security.principal import Role
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from ..conftest import intake_settings, security_settings, token_factory

pytestmark = pytest.mark.integration


class _Server:
    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                msg = "uvicorn did not start"
                raise RuntimeError(msg)
            self.thread.join(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture(scope="module")
def intake_api(
    kafka_bootstrap: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str, dict[str, str]]]:
    unique = uuid.uuid4().hex[:12]
    security = security_settings(Path(tmp_path_factory.mktemp("fuzz-keys")), unique)
    database = f"intake_fuzz_{unique}"
    app = create_app(intake_settings(kafka_bootstrap, mongo_url, database), security=security)
    port = free_port()
    token = token_factory(security)(Role.COORDINATOR)
    with _Server(app, port):
        base_url = f"http://127.0.0.1:{port}"
        schema = schemathesis.openapi.from_dict(app.openapi())
        yield schema, base_url, {"Authorization": f"Bearer {token}"}
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    client.drop_database(database)
    client.close()


def test_no_server_error_and_responses_match_the_schema(
    intake_api: tuple[Any, str, dict[str, str]],
) -> None:
    schema, base_url, auth = intake_api
    failures: dict[str, str] = {}
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call_and_validate(
                base_url=base_url,
                headers=auth,
                checks=[not_a_server_error, response_schema_conformance],
            )
            statuses.append(response.status_code)

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = str(exc)[:2000]
    # The run reached the routes, not only the validation layer: some requests succeeded.
    assert len(statuses) >= 60
    assert any(200 <= status < 300 for status in statuses), sorted(set(statuses))
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
