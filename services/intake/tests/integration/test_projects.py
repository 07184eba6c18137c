"""The project registry on the real servers: who writes, who reads; cases and care carry codes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

CASE = {
    "office": "iquitos",
    "crime_types": ["csec"],
    "arrival_channel": "walk_in",
    "victims": [{"sex": "female", "age_at_intake": 15, "personal_data": {}}],
}


def project(code: str, **overrides: Any) -> dict[str, Any]:
    """A project of Iquitos and Lima."""
    body = {
        "code": code,
        "name": "Trata de personas en la Amazonía peruana",
        "funder": "Fundación de prueba",
        "starts_on": "2014-10-01",
        "ends_on": "2018-06-30",
        "offices": ["iquitos", "lima"],
    }
    return {**body, **overrides}


async def test_coordinators_register_staff_read_and_codes_reach_the_events(
    served: Any, kafka_bootstrap: str
) -> None:
    client = served.client
    code = f"AMZ-{uuid.uuid4().hex[:6].upper()}"
    boss, trainer = served.auth(Role.COORDINATOR), served.auth(Role.TRAINER)
    worker = served.auth(offices=frozenset({"iquitos"}))
    refused = await client.post("/projects", json=project(code), headers=worker)
    assert refused.status_code == 403
    made = await client.post("/projects", json=project(code), headers=boss)
    assert made.status_code == 201, made.text
    taken = await client.post("/projects", json=project(code), headers=boss)
    assert taken.status_code == 409
    backwards = await client.post(
        "/projects", json=project(f"{code}-B", ends_on="2010-01-01"), headers=boss
    )
    assert backwards.status_code == 422
    assert "ends_on" in backwards.text
    listed = await client.get("/projects", headers=trainer)
    assert code in {p["code"] for p in listed.json()}
    read = await client.get(f"/projects/{code}", headers=worker)
    corrected = await client.patch(
        f"/projects/{code}",
        json={k: v for k, v in project(code, funder="Otro financiador").items() if k != "code"},
        headers={**boss, "If-Match": read.headers["ETag"]},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["funder"] == "Otro financiador"

    opened = await client.post("/cases", json=CASE, headers=worker)
    case_id = opened.json()["case_id"]
    victim_id = opened.json()["victims"][0]["victim_id"]
    unknown = await client.post(
        f"/cases/{case_id}/project", json={"project_code": "NOPE-1"}, headers=worker
    )
    assert unknown.status_code == 422
    assert "project_code" in unknown.text
    assigned = await client.post(
        f"/cases/{case_id}/project", json={"project_code": code}, headers=worker
    )
    assert assigned.status_code == 200, assigned.text
    case = await client.get(f"/cases/{case_id}", headers=worker)
    assert case.json()["project_code"] == code
    care = {"care_type": "legal", "provided_on": today_lima().isoformat(), "project_code": code}
    given = await client.post(
        f"/cases/{case_id}/victims/{victim_id}/care", json=care, headers=worker
    )
    assert given.status_code == 201, given.text
    assert given.json()["project_code"] == code

    found: list[dict[str, Any]] = []

    async def published() -> bool:
        records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, idle=0.5)
        found[:] = [json.loads(r.value) for r in records]
        types = {(e["type"], e["subject"]) for e in found}
        return {
            ("project.registered", code),
            ("project.updated", code),
            ("case.project_assigned", case_id),
            ("care.provided", case_id),
        } <= types

    await wait_for(published, timeout=30, interval=0.3)
    care_event = next(e for e in found if e["type"] == "care.provided" and e["subject"] == case_id)
    assert care_event["data"]["project_code"] == code


async def test_a_project_of_other_offices_does_not_fit_a_case(served: Any) -> None:
    client = served.client
    code = f"LIM-{uuid.uuid4().hex[:6].upper()}"
    boss = served.auth(Role.COORDINATOR)
    made = await client.post("/projects", json=project(code, offices=["lima"]), headers=boss)
    assert made.status_code == 201
    worker = served.auth(offices=frozenset({"iquitos"}))
    opened = await client.post("/cases", json=CASE, headers=worker)
    answer = await client.post(
        f"/cases/{opened.json()['case_id']}/project", json={"project_code": code}, headers=worker
    )
    assert answer.status_code == 422
    assert "oficina indicada" in answer.text
