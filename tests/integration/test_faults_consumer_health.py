"""The analytics consumer's /healthz says 503 and names Kafka or MongoDB when it cannot reach it."""

from __future__ import annotations

import pytest
from ruta_analytics.settings import AnalyticsSettings
from ruta_analytics.workers.health import ConsumerHealth
from ruta_local.infra import free_port

pytestmark = pytest.mark.integration


def settings(kafka: str, mongo_url: str) -> AnalyticsSettings:
    return AnalyticsSettings(
        environment="test",
        kafka_bootstrap_servers=kafka,
        mongo_url=mongo_url,
        readiness_timeout_seconds=1.5,
        mongo_timeout_ms=1000,
    )


@pytest.mark.parametrize("down", [None, "kafka", "mongodb"])
async def test_health_names_the_unreachable_part(
    kafka_bootstrap: str, mongo_url: str, down: str | None
) -> None:
    # A port nothing listens on is what a stopped server looks like to a client.
    nowhere = f"127.0.0.1:{free_port()}"
    health = ConsumerHealth(
        settings(
            nowhere if down == "kafka" else kafka_bootstrap,
            f"mongodb://{nowhere}/" if down == "mongodb" else mongo_url,
        )
    )
    try:
        status, body = await health.check()
    finally:
        await health.close()
    expected = {"kafka": "ok", "mongodb": "ok"}
    if down is not None:
        expected[down] = "unavailable"
    assert body["checks"] == expected
    assert status == (200 if down is None else 503)
    assert body["status"] == ("ok" if down is None else "unavailable")
