"""Corrections on the real FerretDB: case details, victim attributes and duplicates move counts."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.handlers import apply_event
from ruta_analytics.projection.models import FACT_COLLECTIONS
from ruta_analytics.projection.store import Generation, load_batch, project
from ruta_shared.events import EventEnvelope
from ruta_shared.testing.synthetic import StreamBuilder, chunked, random_stream

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
KEYS = ("cases_opened", "sex_age", "origin", "exploitation", "care", "referrals", "per_year_cases")
KEYS_MORE = ("per_year_victims", "returns", "milestones")


async def facts(generation: Generation) -> dict[str, list[Doc]]:
    """Every fact document, sorted by id."""
    return {
        name: [d async for d in generation.collection(name).find().sort("_id", 1)]
        for name in FACT_COLLECTIONS
    }


async def test_corrections_match_a_plain_recount_for_every_filter_even_when_redelivered(
    generation: Generation,
    recount: Callable[..., Doc],
    reshape: Callable[[Doc], Doc],
    corrected: Callable[[random.Random, list[EventEnvelope]], list[EventEnvelope]],
) -> None:
    rng = random.Random(12)
    events = corrected(rng, random_stream(rng, cases=80, years=(2016, 2017)))
    assert {"case.details_updated", "victim.attributes_corrected"} <= {e.type for e in events}
    for batch in chunked(events, 53):
        await project(generation, batch)
    once = await facts(generation)
    for batch in chunked(events, 131):  # redelivered, in other batches, some a third time
        await project(generation, batch)
    await project(generation, rng.sample(events, 120))
    assert await facts(generation) == once
    filters: list[Doc] = [
        {},
        {"year": 2017},
        {"office": "lima"},
        {"region": "01"},
        {"crime_type": "trafficking"},
        {"year": 2016, "region": "02", "crime_type": "csec"},
    ]
    for chosen in filters:
        got = reshape(await exact_figures(generation, Filters(**chosen)))
        expected = recount(events, **chosen)
        if "year" in chosen:  # per-year rows: the year asked for and the one before
            shown = {chosen["year"], chosen["year"] - 1}
            for key in ("per_year_cases", "per_year_victims"):
                expected[key] = {y: n for y, n in expected[key].items() if y in shown}
        for key in (*KEYS, *KEYS_MORE):
            assert got[key] == expected[key], (chosen, key)


async def test_a_crash_halfway_through_a_correction_is_repaired_by_its_redelivery(
    generation: Generation,
) -> None:
    builder = StreamBuilder()
    at = datetime(2017, 3, 1, 12, tzinfo=UTC)
    case_id = builder.open_case(at=at, crime_types=["trafficking"], region="15")
    victim_id = builder.register_victim(case_id, at=at)
    await project(generation, builder.envelopes)
    data = {
        "case_id": case_id,
        "crime_types": ["csec"],
        "exploitation_purposes": [],
        "region_of_exploitation": "16",
        "arrival_channel": "institution_referral",
        "referring_institution_kind": None,
        "updated_at": at.isoformat(),
    }
    details = builder.emit("case.details_updated", "intake", case_id, data, at=at)
    # The worker dies after replacing the case and before its victim got the new details.
    batch = await load_batch(generation, [details])
    apply_event(batch, details)
    case = batch.get("cases", case_id)
    assert case is not None
    assert case["dependents"] == [{"collection": "victims", "id": victim_id}]
    await generation.collection("cases").replace_one({"_id": case_id}, case)
    stale = await exact_figures(generation, Filters(crime_type="csec"))
    assert stale["victims"]["total"] == 0

    await project(generation, [details])  # redelivered after the restart
    fixed = await exact_figures(generation, Filters(crime_type="csec", region="16"))
    assert fixed["victims"]["total"] == 1
    assert (await exact_figures(generation, Filters(crime_type="trafficking")))["victims"][
        "total"
    ] == 0
