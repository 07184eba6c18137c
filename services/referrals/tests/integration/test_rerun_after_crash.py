"""A keyed POST re-run after its claim's lease (a crash) writes and announces nothing twice."""

from __future__ import annotations

from typing import Any

import pytest
from ruta_shared.testing.claims import announced as once_announced
from ruta_shared.testing.claims import post_after_crash
from ruta_shared.topics import REFERRALS_EVENTS

pytestmark = pytest.mark.integration


async def announced(harness: Any, case_id: str, event_type: str) -> int:
    """How many events of `event_type` the case has on Kafka, once its outbox is empty."""
    routes = harness.db.case_routes
    return await once_announced(
        harness.kafka_bootstrap, REFERRALS_EVENTS, routes, case_id, event_type
    )


async def post_twice(harness: Any, path: str, body: dict[str, Any], key: str) -> list[Any]:
    """POST, leave the claim as a crash would, POST again after the lease: both answers."""
    headers = {**harness.staff(), "Idempotency-Key": key}
    return list(await post_after_crash(harness.client, harness.db.idempotency, path, body, headers))


async def test_a_referral_rerun_after_a_crash_finds_the_one_it_wrote(harness: Any) -> None:
    case_id, victim_id = await harness.open_case()
    fistrap = await harness.institution()
    body = {
        "victim_id": victim_id,
        "institution_id": fistrap,
        "reason": "Requiere protección y acompañamiento en la investigación.",
        "services_requested": ["legal"],
        "urgency": "high",
    }
    first, retry = await post_twice(
        harness, f"/cases/{case_id}/referrals", body, "derivacion-tras-caida-0001"
    )
    assert retry["referral_id"] == first["referral_id"]
    route = await harness.client.get(f"/cases/{case_id}/route", headers=harness.staff())
    assert len(route.json()["referrals"]) == 1
    assert (await announced(harness, case_id, "referral.requested")) == 1


@pytest.mark.parametrize(
    ("path", "field", "id_field", "event_type", "body"),
    [
        (
            "return-home",
            "returns",
            "return_id",
            "victim.returned_home",
            {"region_of_origin": "16", "returned_on": "2026-11-20", "funded": True},
        ),
        (
            "reintegration-milestones",
            "milestones",
            "milestone_id",
            "reintegration.milestone_reached",
            {"milestone": "entrepreneurship_plan_funded", "reached_on": "2026-11-25"},
        ),
    ],
)
async def test_a_return_or_milestone_rerun_after_a_crash_is_recorded_once(
    harness: Any, path: str, field: str, id_field: str, event_type: str, body: dict[str, Any]
) -> None:
    case_id, victim_id = await harness.open_case()
    first, retry = await post_twice(
        harness, f"/cases/{case_id}/victims/{victim_id}/{path}", body, f"{path}-caida-0001"
    )
    assert retry[id_field] == first[id_field]
    route = await harness.client.get(f"/cases/{case_id}/route", headers=harness.staff())
    assert len(route.json()[field]) == 1
    assert (await announced(harness, case_id, event_type)) == 1


async def test_a_stage_entry_rerun_after_a_crash_is_recorded_once(harness: Any) -> None:
    case_id, victim_id = await harness.open_case()
    body = {
        "victim_id": victim_id,
        "stage": "shelter",
        "institution_kind": "shelter_car",
        "entered_on": "2026-11-20",
        "note": "Trasladada al CAR tras la intervención.",
    }
    first, retry = await post_twice(
        harness, f"/cases/{case_id}/stages", body, "etapa-tras-caida-0001"
    )
    assert retry["stage_occurrence_id"] == first["stage_occurrence_id"]
    stages = await harness.client.get(f"/cases/{case_id}/stages", headers=harness.staff())
    assert len(stages.json()) == 1
    assert (await announced(harness, case_id, "route_stage.entered")) == 1
