"""Schemathesis over analytics' OpenAPI document: no server error, no response breaking the schema.

The app runs under uvicorn on 127.0.0.1 beside a real faust worker that projected one case;
every operation gets generated requests with a coordinator's token, half of them on that case.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from ruta_analytics.main import create_app
from ruta_analytics.settings import AnalyticsSettings
from ruta_local.infra import free_port
from ruta_shared.events import Actor, EventEnvelope, new_event
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.events import case_opened, victim_registered
from ruta_shared.testing.openapi import LiveServer, fuzz
from ruta_shared.testing.tokens import bearer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def one_case() -> tuple[str, list[EventEnvelope]]:
    """A case opened with one victim registered: its id and its two events."""
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    actor = Actor(id="u-fuzz", role="case_worker")
    payloads = [
        case_opened(case_id, opened_at=now),
        victim_registered(case_id, f"victim-{uuid.uuid4().hex[:12]}", registered_at=now),
    ]
    events = [
        new_event(payload, subject=case_id, sequence=n, actor=actor)
        for n, payload in enumerate(payloads, start=1)
    ]
    return case_id, events


async def test_no_server_error_and_responses_match_the_schema(
    settings: AnalyticsSettings,
    security_settings: SecuritySettings,
    db: AsyncDatabase[dict[str, Any]],
    publisher: Any,
    worker: Any,
    projected: Callable[..., Any],
) -> None:
    case_id, events = one_case()
    await publisher.publish(events)
    await projected(db, events, worker)
    coordinator = bearer(security_settings, Role.COORDINATOR, offices=())
    with LiveServer(create_app(settings, security=security_settings), free_port()) as server:
        # Schemathesis calls are blocking: they run in a thread, the server in its own.
        report = await asyncio.to_thread(
            fuzz,
            server.url,
            headers=lambda _: coordinator,
            path_values={"trail_id": [case_id], "year": [str(datetime.now(UTC).year)]},
            examples=15,
            # An endless server-sent event stream (the dashboard tests read it).
            skip=lambda op: op.path == "/dashboard/stream",
        )
    print(report.describe())
    # The run reached the routes, not only the validation and permission layers.
    assert report.calls >= 100
    assert sum(n for status, n in report.statuses.items() if 200 <= status < 300) >= 40
    assert report.statuses[404] > 0
    assert report.violations == 0, report.describe()
