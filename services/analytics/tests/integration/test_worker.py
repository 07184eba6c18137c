"""The faust worker as a real subprocess on the real Kafka and FerretDB: exact figures,
duplicate redelivery, SIGKILL in the middle of a batch and restart, dead letters, rebuild."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.cube import CUBE, PRESENCE
from ruta_analytics.projection.models import AUDIT, AUDIT_HEADS, FACT_COLLECTIONS
from ruta_analytics.projection.store import Generation, active_generation
from ruta_analytics.testing.cube_state import stored_counters
from ruta_shared.events import EventEnvelope
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.testing.synthetic import random_stream, report_stream
from ruta_shared.topics import dead_letter_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

Doc = dict[str, Any]


async def snapshot(generation: Generation) -> dict[str, list[Doc]]:
    """Every projection document, sorted by id."""
    out = {}
    for name in (*FACT_COLLECTIONS, PRESENCE, AUDIT, AUDIT_HEADS):
        out[name] = [d async for d in generation.collection(name).find().sort("_id", 1)]
    # The aggregates, without what only the live path writes: journal marks, and counters
    # that went back to zero (a rebuild never writes a zero).
    out[CUBE] = [
        {"_id": d["_id"], "c": stored_counters(d)}
        async for d in generation.collection(CUBE).find().sort("_id", 1)
        if stored_counters(d)
    ]
    return out


async def test_report_stream_gives_the_report_table_even_when_delivered_twice(
    db: AsyncDatabase[Doc], publisher: Any, worker: Any, projected: Callable[..., Any]
) -> None:
    events = report_stream((2015, 2016, 2017))
    await publisher.publish(events)
    await publisher.publish(events)  # every event redelivered (e.g. an outbox relay crash)
    await projected(db, events, worker)
    generation = await active_generation(db)
    figures = await exact_figures(generation, Filters(year_from=2015, year_to=2017))
    victims = figures["victims"]
    assert victims["cells"] == [[97, 189, 4], [10, 42, 0], [0, 0, 2]]
    assert victims["row_totals"] == [290, 52, 2]
    assert victims["column_totals"] == [107, 231, 6]
    assert victims["total"] == 344
    assert await generation.collection(AUDIT).count_documents({}) == len(events)
    cases = sum(1 for e in events if e.type == "case.opened")
    assert figures["cases_opened"] == cases
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{worker.settings.faust_web_port}/metrics"
        metrics = (await client.get(url)).text
    assert 'ruta_events_consumed_total{group="analytics",type="victim.registered"}' in metrics
    assert "ruta_analytics_end_to_end_seconds_bucket" in metrics
    assert "ruta_analytics_consumer_lag" in metrics


async def test_killed_mid_batch_then_restarted_counts_each_event_once(
    db: AsyncDatabase[Doc],
    publisher: Any,
    worker: Any,
    projected: Callable[..., Any],
    recount: Callable[..., Doc],
    reshape: Callable[[Doc], Doc],
    topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    events = random_stream(random.Random(21), cases=700, years=(2016, 2017), sessions=20)
    await publisher.publish(events)

    async def some_but_not_all() -> bool:
        generation = await active_generation(db)
        return await generation.collection(AUDIT).count_documents({}) > 200

    await wait_for(some_but_not_all, timeout=90, interval=0.05)
    worker.kill()  # SIGKILL in the middle of the stream: no commit, no clean shutdown
    generation = await active_generation(db)
    partial = await generation.collection(AUDIT).count_documents({})
    assert partial < len(events), "the worker finished before it could be killed"
    # Some events are redelivered after the restart; a few are also re-published.
    await publisher.publish(random.Random(2).sample(events, 100))
    worker.start()
    await projected(db, events, worker)
    live = await active_generation(db)
    figures = await exact_figures(live, Filters())
    assert reshape(figures) == recount(events)


async def test_dead_letters_and_rebuild_equals_the_live_projection(
    db: AsyncDatabase[Doc],
    publisher: Any,
    worker: Any,
    projected: Callable[..., Any],
    recount: Callable[..., Doc],
    reshape: Callable[[Doc], Doc],
    corrected: Callable[[random.Random, list[EventEnvelope]], list[EventEnvelope]],
    topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    rng = random.Random(23)
    events = corrected(rng, random_stream(rng, cases=150, years=(2016, 2017), sessions=8))
    await publisher.publish(events)
    await projected(db, events, worker)
    live = await active_generation(db)
    figures = await exact_figures(live, Filters())
    assert reshape(figures) == recount(events)

    # A poisoned message goes to the dead-letter topic and the stream goes on.
    await publisher.publisher._producer.send_and_wait(topics["intake"], b"not json", key=b"x")
    dead = await read_topic(kafka_bootstrap, dead_letter_topic(topics["intake"]), until=1)
    assert dead[0].value == b"not json"
    assert dict(dead[0].headers)["dlq-reason"] == b"undecodable"

    # Rebuild from the start of the topics into fresh collections, then swap them in.
    before = await snapshot(live)
    env = worker.env()
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ruta_analytics.workers.rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rebuild [" in result.stderr
    rebuilt = await active_generation(db)
    assert rebuilt.name != live.name
    # The audit trail is a ledger shared by the generations: the rebuild wrote none of it.
    names = await db.list_collection_names()
    assert [n for n in names if n.startswith(rebuilt.name) and "audit" in n] == []
    assert await rebuilt.collection(AUDIT).count_documents({}) == len(before[AUDIT])
    assert await snapshot(rebuilt) == before
    assert await exact_figures(rebuilt, Filters()) == figures
    assert os.environ.get("RUTA_MONGO_DATABASE") != env["RUTA_MONGO_DATABASE"]
