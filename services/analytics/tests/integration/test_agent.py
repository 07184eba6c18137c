"""The faust agent in-process (`agent.test_context()`, no Kafka) writing to the real FerretDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import generate_latest
from pymongo.asynchronous.database import AsyncDatabase
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.models import AUDIT, CASES
from ruta_analytics.projection.store import active_generation
from ruta_analytics.settings import AnalyticsSettings
from ruta_analytics.workers.consumer import create_stream_worker
from ruta_shared.events import EVENTS
from ruta_shared.testing.kafka import wait_for
from ruta_shared.testing.synthetic import StreamBuilder

pytestmark = pytest.mark.integration

Doc = dict[str, Any]


@pytest.fixture
def agent_settings(settings: AnalyticsSettings, unique: str) -> AnalyticsSettings:
    """This test's database and one topic (the test channel takes its name); the agent reads
    a test channel, so the broker in the settings is never contacted."""
    return settings.model_copy(
        update={"event_topics": [f"t{unique}.intake.events"], "batch_size": 10}
    )


async def test_the_agent_projects_what_it_is_given_once_even_when_given_twice(
    agent_settings: AnalyticsSettings, db: AsyncDatabase[Doc]
) -> None:
    builder = StreamBuilder()
    at = datetime(2017, 3, 1, 12, tzinfo=UTC)
    case_id = builder.open_case(at=at)
    builder.register_victim(case_id, at=at, sex="female", age_group="minor")
    builder.register_victim(case_id, at=at, sex="male", age_group="adult")
    events = builder.envelopes
    worker = create_stream_worker(agent_settings)

    consumed = 'ruta_events_consumed_total{group="analytics",type="victim.registered"} 4.0'

    async def all_projected() -> bool:
        # Both deliveries consumed (the metric), the first one's effects written (the ledger).
        if consumed not in generate_latest(worker.metrics.shared.registry).decode():
            return False
        generation = await active_generation(db)
        return await generation.collection(AUDIT).count_documents({}) == len(events)

    try:
        async with worker.agent.test_context() as agent:
            for envelope in [*events, *events]:  # every event delivered twice
                await agent.put(EVENTS.encode(envelope), key=envelope.key)
            await wait_for(all_projected, timeout=60, interval=0.1)
    finally:
        await worker.projector.close()

    generation = await active_generation(db)
    case = await generation.collection(CASES).find_one({"_id": case_id})
    assert case is not None
    assert (case["opened"], case["year"], case["seq"]) == (True, 2017, 1)
    figures = await exact_figures(generation, Filters())
    assert figures["cases_opened"] == 1
    assert figures["victims"]["cells"] == [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    assert await generation.collection(AUDIT).count_documents({}) == len(events)
    assert await generation.collection(CASES).count_documents({}) == 1
