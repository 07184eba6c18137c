"""Training's GET /reach and analytics' training figures give the same answers on the same data
(the events training published on the real Kafka, projected by analytics' own write path)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.store import active_generation, project
from ruta_shared.events import EventEnvelope

pytestmark = pytest.mark.integration


def nonzero(vector: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in zip(vector["keys"], vector["values"], strict=True) if v}


async def analytics_training(
    mongo_url: str, database: str, events: list[EventEnvelope], filters: list[Filters]
) -> list[dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        generation = await active_generation(client[database])
        await project(generation, events)
        return [(await exact_figures(generation, f))["training"] for f in filters]
    finally:
        await client.drop_database(database)
        await client.close()


def test_reach_by_region_sex_and_audience_agree(
    training: Any, new_session_body: Any, mongo_url: str, unique: str
) -> None:
    client, trainer = training.client, training.auth()
    people = []
    for number, (sex, audience, region) in enumerate(
        [
            ("female", "car_staff", "08"),
            ("male", "justice_operators", "15"),
            ("female", "justice_operators", "16"),
            ("male", "car_staff", None),
        ]
    ):
        fields = {"document_number": f"4{unique[:3]}{number:04d}"[:8], "sex": sex}
        fields |= {"audience": audience} | ({"region": region} if region else {})
        registered = training.register(trainer, given_names=f"P{number}", **fields)
        assert registered.status_code in (200, 201), registered.text
        people.append(registered.json()["id"])
    # Sessions in two regions and two years; people come back; one talk with a head count.
    plan = [("15", "2017-03-01", people[:3]), ("16", "2017-06-01", people[1:]),
            ("15", "2018-02-01", [people[0], people[3]])]  # fmt: skip
    sessions = []
    for region, day, attendees in plan:
        body = new_session_body(region=region, starts_on=day, ends_on=day)
        sid = client.post("/sessions", json=body, headers=trainer).json()["id"]
        sessions.append(sid)
        for pid in attendees:
            recorded = client.post(
                f"/sessions/{sid}/attendance", json={"participant_id": pid}, headers=trainer
            )
            assert recorded.status_code == 201, recorded.text
    counted = client.put(
        f"/sessions/{sessions[1]}/headcounts/adolescents",
        json={"female": 12, "male": 7, "unknown": 1},
        headers=trainer,
    )
    assert counted.status_code == 200, counted.text
    events = [e for e in training.events() if e.subject in set(sessions)]
    asked = [
        ({}, Filters()),
        ({"region": "15"}, Filters(region="15")),
        ({"starts_from": "2017-01-01", "starts_to": "2017-12-31"}, Filters(year=2017)),
        ({"office": "lima", "region": "16"}, Filters(office="lima", region="16")),
    ]
    figures = asyncio.run(
        analytics_training(mongo_url, f"analytics_{unique}", events, [f for _, f in asked])
    )
    for (query, _), answer in zip(asked, figures, strict=True):
        reach = client.get("/reach", params=query, headers=trainer).json()
        assert answer["participants"] == reach["distinct_participants"], query
        assert answer["headcount"] == reach["headcount"], query
        assert answer["people_reached"] == reach["total_reach"], query
        assert nonzero(answer["by_region"]) == {k: v for k, v in reach["by_region"].items() if v}
        assert nonzero(answer["by_sex"]) == {k: v for k, v in reach["by_sex"].items() if v}
        assert nonzero(answer["by_audience"]) == {
            k: v for k, v in reach["by_audience"].items() if v
        }
    assert figures[0]["people_reached"] == 4 + 20
