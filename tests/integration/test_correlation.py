"""A correlation id travels from the HTTP header into the event and the consumer's JSON logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from ruta_shared.events import EventEnvelope
from ruta_shared.events.catalog.intake import CaseOpened
from ruta_shared.kafka.consumer import EventConsumer
from ruta_shared.logging import configure_logging
from ruta_shared.outbox import PENDING_FIELD
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import ServiceContext, create_service_app, get_context
from ruta_shared.settings import ServiceSettings
from ruta_shared.testing.kafka import read_topic
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

log = logging.getLogger("tests.correlation")


def case_app(settings: ServiceSettings, security: SecuritySettings) -> Any:
    """A service with one route that opens a case through the outbox."""
    router = APIRouter()

    @router.post("/cases/{case_id}", status_code=201)
    async def open_case(
        case_id: str,
        principal: Annotated[Principal, require("case:write")],
        context: Annotated[ServiceContext, Depends(get_context)],
    ) -> dict[str, str]:
        """Open a case (test route)."""
        payload = CaseOpened(
            case_id=case_id,
            case_code="CUS-2026-0001",
            office="cusco",
            opened_at=datetime.now(UTC),
            crime_types=["forced_labour"],
            arrival_channel="walk_in",
        )
        await context.outbox.insert(
            context.db["cases"],
            {"_id": case_id},
            subject=case_id,
            payloads=[payload],
            actor=principal.actor,
        )
        return {"id": case_id}

    return create_service_app(
        settings,
        title="test",
        description="test",
        routers=[router],
        outbox_collections=["cases"],
        security=security,
    )


async def test_correlation_id_goes_from_header_to_event_to_consumer_logs(
    kafka_bootstrap: str, mongo_url: str, unique: str, tmp_path: Path
) -> None:
    security = SecuritySettings(environment="test", key_dir=tmp_path / "keys")
    settings = ServiceSettings(
        service_name="intake",
        environment="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=f"test_{unique}",
        outbox_poll_interval_seconds=0.2,
    )
    token = sign_token(
        Principal(id="u-1", role=Role.CASE_WORKER, offices=frozenset({"cusco"}), auth="password"),
        keys=load_signing_keys(security),
        issuer=security.jwt_issuer,
        audience=security.jwt_audience,
        lifetime=timedelta(minutes=5),
    )
    correlation = f"corr-{unique}"
    case_id = f"case-{unique}"

    app = case_app(settings, security)

    async def drained() -> bool:
        context: ServiceContext = app.state.context
        return await context.db["cases"].count_documents({PENDING_FIELD: True}) == 0

    def call() -> None:
        with TestClient(app) as client:
            response = client.post(
                f"/cases/{case_id}",
                headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": correlation},
            )
            assert response.status_code == 201, response.text
            assert response.headers["X-Correlation-ID"] == correlation
            # Leaving the block stops the app: wait until its relay has published.
            portal = client.portal
            assert portal is not None
            for _ in range(300):
                if portal.call(drained):
                    break
                portal.call(asyncio.sleep, 0.1)

    await asyncio.to_thread(call)

    records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, timeout=30)
    mine = [r for r in records if r.key == case_id.encode()]
    assert len(mine) == 1
    envelope = EventEnvelope.model_validate_json(mine[0].value)  # type: ignore[arg-type]
    assert envelope.correlation_id == correlation
    assert dict(mine[0].headers)["correlation-id"] == correlation.encode()

    stream = io.StringIO()
    configure_logging("consumer-test", "INFO", stream=stream)
    seen = asyncio.Event()

    async def handle(event: EventEnvelope) -> None:
        if event.subject == case_id:
            log.info("case projected")
            seen.set()

    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=f"g-{unique}",
        topics=[INTAKE_EVENTS],
        handler=handle,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while not seen.is_set():
                await consumer.process_batch(timeout_ms=200)
    finally:
        await consumer.stop()
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    projected = [line for line in lines if line["message"] == "case projected"]
    assert projected, stream.getvalue()
    assert projected[0]["correlation_id"] == correlation
    assert projected[0]["service"] == "consumer-test"
