"""Each service starts on the real servers and answers health, readiness, metrics, OpenAPI."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ruta_local.infra import free_port

pytestmark = pytest.mark.integration

SERVICES = {"intake": 8001, "referrals": 8002, "training": 8003, "analytics": 8004}


def build(name: str, **overrides: Any) -> Any:
    main = importlib.import_module(f"ruta_{name}.main")
    settings_module = importlib.import_module(f"ruta_{name}.settings")
    settings_class = getattr(settings_module, f"{name.capitalize()}Settings")
    return main.create_app(settings_class(environment="test", **overrides)), settings_class


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_healthy_ready_and_measured(
    name: str, kafka_bootstrap: str, mongo_url: str, unique: str
) -> None:
    app, settings_class = build(
        name,
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=f"test_{unique}",
    )
    assert settings_class().port == SERVICES[name]
    with TestClient(app) as client:
        health = client.get("/healthz", headers={"X-Correlation-ID": f"corr-{unique}"})
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "service": name}
        assert health.headers["X-Correlation-ID"] == f"corr-{unique}"

        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "checks": {"mongodb": "ok", "kafka": "ok"}}

        spec = client.get("/openapi.json").json()
        assert spec["info"]["title"] == f"Ruta: {name}"
        assert "/healthz" in spec["paths"]

        missing = client.get(f"/no/such/{unique}")
        assert missing.status_code == 404
        assert missing.json()["detail"] == "No encontrado."

        metrics = client.get("/metrics").text
        labels = f'method="GET",route="/healthz",service="{name}",status="200"'
        assert f"ruta_http_requests_total{{{labels}}} 1.0" in metrics
        assert 'route="unmatched"' in metrics
        assert unique not in metrics  # raw paths never become labels


def test_readiness_names_the_dependency_that_is_down(mongo_url: str, unique: str) -> None:
    app, _ = build(
        "intake",
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        mongo_url=mongo_url,
        mongo_database=f"test_{unique}",
        readiness_timeout_seconds=1.0,
    )
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "unavailable",
            "checks": {"mongodb": "ok", "kafka": "unavailable"},
        }
        assert client.get("/healthz").status_code == 200
