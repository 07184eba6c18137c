"""Route stages on the real servers: catalogue, enter, leave, parallel stages, notes, overdue."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from ruta_shared.events.catalog.intake import ProjectRegistered
from ruta_shared.lima import today_lima
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import REFERRALS_EVENTS

pytestmark = pytest.mark.integration


async def wait_events(harness: Any, case_id: str, types: list[str]) -> list[dict[str, Any]]:
    """Wait until the case's events on Kafka include `types`; return them by sequence."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        records = await read_topic(harness.kafka_bootstrap, REFERRALS_EVENTS, idle=0.5)
        events = [json.loads(r.value) for r in records]
        found[:] = sorted(
            (e for e in events if e["subject"] == case_id), key=lambda e: e["sequence"]
        )
        return set(types) <= {e["type"] for e in found}

    await wait_for(arrived, timeout=30, interval=0.3)
    return found


NOTE = "La adolescente fue trasladada al CAR de Iquitos tras la intervención."


async def enter(harness: Any, case_id: str, headers: Any, **body: Any) -> Any:
    """POST a stage entry."""
    return await harness.client.post(f"/cases/{case_id}/stages", json=body, headers=headers)


async def test_the_catalogue_lists_the_eleven_protocol_stages_in_spanish(harness: Any) -> None:
    page = await harness.client.get("/route-stages", headers=harness.staff())
    assert page.status_code == 200
    stages = page.json()["stages"]
    assert [s["code"] for s in stages][:3] == [
        "detection_report",
        "rescue_intervention",
        "first_attention",
    ]
    assert len(stages) == 11
    assert stages[3]["label"].endswith("(UDAVIT)")
    assert page.json()["institution_kinds"]["civil_registry"] == "Registro de identidad (RENIEC)"


async def registered_project(harness: Any, offices: list[str]) -> str:
    """Publish intake's `project.registered` and wait until referrals knows the project."""
    code = f"DTZ-{uuid.uuid4().hex[:6].upper()}"
    event = ProjectRegistered(
        project_code=code,
        name="Down to Zero Movimiento Perú",
        funder="Financiador de prueba",
        starts_on=date(2016, 7, 1),
        ends_on=date(2017, 12, 31),
        offices=offices,
    )
    await harness.feed.publish(code, event)

    async def known() -> bool:
        return await harness.db["projects"].find_one({"_id": code}) is not None

    await wait_for(known, timeout=30)
    return code


async def test_stages_are_entered_in_parallel_repeated_and_left_with_events(
    harness: Any,
) -> None:
    case_id, victim_id = await harness.open_case(consent_to=())
    worker = harness.staff()
    today = today_lima()
    project = await registered_project(harness, ["lima"])
    elsewhere = await registered_project(harness, ["cusco"])
    for code in ("NOPE-1", elsewhere):
        refused = await enter(
            harness,
            case_id,
            worker,
            stage="shelter",
            institution_kind="shelter_car",
            entered_on=today.isoformat(),
            project_code=code,
        )
        assert refused.status_code == 422
        assert "project_code" in refused.text
    shelter = await enter(
        harness,
        case_id,
        worker,
        stage="shelter",
        victim_id=victim_id,
        institution_kind="shelter_car",
        entered_on=today.isoformat(),
        note=NOTE,
        project_code=project,
    )
    assert shelter.status_code == 201, shelter.text
    assert shelter.json()["has_note"] is True
    assert NOTE not in shelter.text
    legal = await enter(
        harness,
        case_id,
        worker,
        stage="legal_aid",
        institution_kind="public_defence",
        entered_on=(today - timedelta(days=3)).isoformat(),
    )
    assert legal.status_code == 201
    legal_id = legal.json()["stage_occurrence_id"]
    left = await harness.client.post(
        f"/cases/{case_id}/stages/{legal_id}/leave",
        json={"left_on": today.isoformat()},
        headers=worker,
    )
    assert left.status_code == 200
    assert left.json()["left_on"] == today.isoformat()
    again = await harness.client.post(
        f"/cases/{case_id}/stages/{legal_id}/leave",
        json={"left_on": today.isoformat()},
        headers=worker,
    )
    assert again.status_code == 409
    repeated = await enter(
        harness,
        case_id,
        worker,
        stage="legal_aid",
        institution_kind="pro_bono_lawyer",
        entered_on=today.isoformat(),
    )
    assert repeated.status_code == 201
    listed = await harness.client.get(f"/cases/{case_id}/stages", headers=worker)
    assert [s["stage"] for s in listed.json()] == ["shelter", "legal_aid", "legal_aid"]

    events = await wait_events(harness, case_id, ["route_stage.entered", "route_stage.left"])
    left_event = next(e for e in events if e["type"] == "route_stage.left")
    assert left_event["data"]["days_in_stage"] == 3
    assert left_event["data"]["institution_kind"] == "public_defence"
    entered = [e["data"] for e in events if e["type"] == "route_stage.entered"]
    assert entered[0]["project_code"] == project
    assert entered[0]["victim_id"] == victim_id
    assert all(NOTE not in str(e) for e in events)

    shelter_id = shelter.json()["stage_occurrence_id"]
    details = await harness.client.get(
        f"/cases/{case_id}/stages/{shelter_id}/details", headers=worker
    )
    assert details.status_code == 200
    assert details.json()["note"] == NOTE


async def test_bad_input_and_other_offices_are_refused(harness: Any) -> None:
    case_id, _victim = await harness.open_case(consent_to=())
    worker = harness.staff()
    unknown = await enter(
        harness,
        case_id,
        worker,
        stage="teleportation",
        institution_kind="police",
        entered_on="2026-01-01",
    )
    assert unknown.status_code == 422
    assert "stage" in unknown.text
    stranger = await enter(
        harness,
        case_id,
        harness.staff(offices=("cusco",)),
        stage="rescue_intervention",
        institution_kind="police",
        entered_on="2026-01-01",
    )
    assert stranger.status_code == 404
    legal = await enter(
        harness,
        case_id,
        worker,
        stage="legal_aid",
        institution_kind="public_defence",
        entered_on="2026-03-10",
    )
    early = await harness.client.post(
        f"/cases/{case_id}/stages/{legal.json()['stage_occurrence_id']}/leave",
        json={"left_on": date(2026, 3, 9).isoformat()},
        headers=worker,
    )
    assert early.status_code == 422
    assert "left_on" in early.text


async def test_a_stage_past_its_target_is_overdue_once(harness: Any) -> None:
    case_id, _victim = await harness.open_case(consent_to=())
    worker = harness.staff()
    rescue = await enter(
        harness,
        case_id,
        worker,
        stage="rescue_intervention",
        institution_kind="police",
        entered_on=today_lima().isoformat(),
    )
    occurrence_id = rescue.json()["stage_occurrence_id"]

    async def listed() -> bool:
        page = await harness.client.get("/route-stages/overdue", headers=worker)
        return occurrence_id in {s["stage_occurrence_id"] for s in page.json()}

    await wait_for(listed, timeout=30)
    assert await harness.app.state.runtime.workers.overdue.run_once() >= 0
    events = await wait_events(harness, case_id, ["route_stage.overdue"])
    assert [e["type"] for e in events].count("route_stage.overdue") == 1
    cusco = await harness.client.get(
        "/route-stages/overdue", headers=harness.staff(offices=("cusco",))
    )
    assert occurrence_id not in {s["stage_occurrence_id"] for s in cusco.json()}
    metrics = await harness.client.get("/metrics")
    assert 'ruta_route_stages_overdue_total{stage="rescue_intervention"}' in metrics.text
    await harness.client.post(
        f"/cases/{case_id}/stages/{occurrence_id}/leave",
        json={"left_on": today_lima().isoformat()},
        headers=worker,
    )
    assert not await listed()
