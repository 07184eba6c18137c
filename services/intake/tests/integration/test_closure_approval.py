"""Closure approval on the real servers: request, return with a comment, approve; the queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

NOTE = "La familia confirmó que la adolescente retomó el colegio en Belén."
COMMENT = "Falta registrar la última visita de seguimiento antes de cerrar."
CASE = {
    "office": "lima",
    "crime_types": ["trafficking"],
    "arrival_channel": "walk_in",
    "victims": [{"sex": "female", "age_at_intake": 16, "personal_data": {}}],
}


async def case_events(bootstrap: str, case_id: str, wanted: set[str]) -> list[dict[str, Any]]:
    """The case's events on Kafka once they include every type in `wanted`."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        records = await read_topic(bootstrap, INTAKE_EVENTS, idle=0.5)
        events = (json.loads(r.value) for r in records)
        found[:] = sorted(
            (e for e in events if e["subject"] == case_id), key=lambda e: e["sequence"]
        )
        return wanted <= {e["type"] for e in found}

    await wait_for(arrived, timeout=30, interval=0.3)
    return found


async def test_a_worker_requests_a_coordinator_returns_then_approves(
    served: Any, kafka_bootstrap: str
) -> None:
    client = served.client
    worker, coordinator = served.auth(), served.auth(Role.COORDINATOR)
    opened = await client.post("/cases", json=CASE, headers=worker)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    base = f"/cases/{case_id}/closure-requests"

    asked = await client.post(
        base, json={"closure_reason": "reintegrated", "note": NOTE}, headers=worker
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "pending"
    assert NOTE not in asked.text
    request_id = asked.json()["request_id"]
    twice = await client.post(base, json={"closure_reason": "reintegrated"}, headers=worker)
    assert twice.status_code == 409
    queue = await client.get("/closure-requests", headers=coordinator)
    assert request_id in {r["request_id"] for r in queue.json()}
    cusco = await client.get("/closure-requests", headers=served.auth(offices=frozenset({"cusco"})))
    assert request_id not in {r["request_id"] for r in cusco.json()}

    by_worker = await client.post(f"{base}/{request_id}/approval", headers=worker)
    assert by_worker.status_code == 403
    no_comment = await client.post(f"{base}/{request_id}/return", json={}, headers=coordinator)
    assert no_comment.status_code == 422
    assert "comment" in no_comment.text
    returned = await client.post(
        f"{base}/{request_id}/return", json={"comment": COMMENT}, headers=coordinator
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    assert (await client.get(f"/cases/{case_id}", headers=worker)).json()["status"] == "open"
    late = await client.post(f"{base}/{request_id}/approval", headers=coordinator)
    assert late.status_code == 409
    details = await client.get(f"{base}/{request_id}/details", headers=worker)
    assert details.json() == {"request_id": request_id, "note": NOTE, "comment": COMMENT}

    again = await client.post(base, json={"closure_reason": "lost_contact"}, headers=worker)
    assert again.status_code == 201
    second_id = again.json()["request_id"]
    approved = await client.post(f"{base}/{second_id}/approval", headers=coordinator)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    read = (await client.get(f"/cases/{case_id}", headers=worker)).json()
    assert read["status"] == "closed"
    assert read["closure_reason"] == "lost_contact"
    queue = await client.get("/closure-requests", headers=coordinator)
    assert second_id not in {r["request_id"] for r in queue.json()}
    listed = await client.get(base, headers=worker)
    assert [r["status"] for r in listed.json()] == ["returned", "approved"]

    wanted = {
        "case.closure_requested",
        "case.closure_returned",
        "case.closure_approved",
        "case.closed",
    }
    events = await case_events(kafka_bootstrap, case_id, wanted)
    assert all(NOTE not in json.dumps(e) and COMMENT not in json.dumps(e) for e in events)
    types = [e["type"] for e in events]
    assert types.index("case.closure_approved") < types.index("case.closed")
    approved_event = next(e for e in events if e["type"] == "case.closure_approved")
    assert approved_event["data"]["closure_reason"] == "lost_contact"
    assert approved_event["data"]["office"] == "lima"


async def test_a_case_of_another_office_is_not_found(served: Any) -> None:
    client = served.client
    opened = await client.post("/cases", json=CASE, headers=served.auth())
    case_id = opened.json()["case_id"]
    stranger = served.auth(offices=frozenset({"cusco"}))
    answer = await client.post(
        f"/cases/{case_id}/closure-requests", json={"closure_reason": "other"}, headers=stranger
    )
    assert answer.status_code == 404
    bad = await client.post(
        f"/cases/{case_id}/closure-requests",
        json={"closure_reason": "bored"},
        headers=served.auth(),
    )
    assert bad.status_code == 422
    assert "closure_reason" in bad.text
