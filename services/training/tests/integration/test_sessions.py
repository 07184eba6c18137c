"""Session lifecycle through the API: schedule, hold, cancel, ETags, scope, and its events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ruta_shared.security.principal import Role

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]


def test_session_lifecycle_publishes_its_events(training: Any, new_session_body: Body) -> None:
    client, trainer = training.client, training.auth()
    created = client.post("/sessions", json=new_session_body(), headers=trainer)
    assert created.status_code == 201, created.text
    session = created.json()
    sid = session["id"]
    assert session["status"] == "scheduled"
    assert session["certificate_min_hours"] == 8  # 80 % of 10 hours by default
    assert created.headers["ETag"] == '"1"'

    read = client.get(f"/sessions/{sid}", headers=trainer)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'

    # Changing status needs the ETag read, and a stale one is refused.
    assert client.post(f"/sessions/{sid}/hold", json={}, headers=trainer).status_code == 428
    stale = client.post(f"/sessions/{sid}/hold", json={}, headers={**trainer, "If-Match": '"7"'})
    assert stale.status_code == 412
    held = client.post(
        f"/sessions/{sid}/hold",
        json={"held_on": "2017-05-04"},
        headers={**trainer, "If-Match": '"1"'},
    )
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "held"
    assert held.json()["held_on"] == "2017-05-04"
    assert held.headers["ETag"] == '"2"'
    # A held session stays held: neither held again nor cancelled.
    again = client.post(f"/sessions/{sid}/hold", json={}, headers={**trainer, "If-Match": '"2"'})
    assert again.status_code == 409
    cancel = client.post(f"/sessions/{sid}/cancel", json={}, headers={**trainer, "If-Match": '"2"'})
    assert cancel.status_code == 409

    other = client.post("/sessions", json=new_session_body(format="talk"), headers=trainer).json()
    cancelled = client.post(
        f"/sessions/{other['id']}/cancel",
        json={"reason": "Paro de transportistas"},
        headers={**trainer, "If-Match": '"1"'},
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    headcount = client.put(
        f"/sessions/{other['id']}/headcounts/adolescents",
        json={"female": 3, "male": 2},
        headers=trainer,
    )
    assert headcount.status_code == 409  # nothing is recorded on a cancelled session

    listed = client.get("/sessions", params={"status": "held"}, headers=trainer).json()
    assert [s["id"] for s in listed["items"]] == [sid]
    assert listed["total"] == 1

    events = training.events(sid)
    assert [(e.type, e.sequence) for e in events] == [
        ("training.session_scheduled", 1),
        ("training.session_held", 2),
    ]
    scheduled = events[0].data
    assert scheduled["office"] == "lima"
    assert scheduled["region"] == "15"
    assert scheduled["pedagogic_hours"] == 10
    assert "title" not in scheduled  # free text stays in the service
    # The session's project reaches both events (analytics counts held sessions per project).
    assert scheduled["project_code"] == events[1].data["project_code"] == "PRJ-2017-01"
    assert events[0].actor.role == "trainer"
    assert [e.type for e in training.events(other["id"])] == [
        "training.session_scheduled",
        "training.session_cancelled",
    ]


def test_sessions_are_scoped_by_office_and_role(training: Any, new_session_body: Body) -> None:
    client = training.client
    sid = client.post("/sessions", json=new_session_body(), headers=training.auth()).json()["id"]

    iquitos = training.auth(offices=frozenset({"iquitos"}))
    assert client.get(f"/sessions/{sid}", headers=iquitos).status_code == 404  # not 403
    assert client.get("/sessions", headers=iquitos).json()["total"] == 0
    refused = client.post("/sessions", json=new_session_body(), headers=iquitos)
    assert refused.status_code == 404  # scheduling for an office outside one's scope

    coordinator = training.auth(Role.COORDINATOR)
    assert client.get(f"/sessions/{sid}", headers=coordinator).status_code == 200
    assert client.post("/sessions", json=new_session_body(), headers=coordinator).status_code == 403
    assert (
        client.get(f"/sessions/{sid}", headers=training.auth(Role.CASE_WORKER)).status_code == 403
    )
    assert client.get(f"/sessions/{sid}").status_code == 401


def test_schedule_is_validated_and_idempotent(training: Any, new_session_body: Body) -> None:
    client, trainer = training.client, training.auth()
    bad_dates = client.post(
        "/sessions", json=new_session_body(ends_on="2017-05-01"), headers=trainer
    )
    assert bad_dates.status_code == 422
    assert bad_dates.json()["errors"][0]["field"] == "ends_on"
    bad_modules = client.post(
        "/sessions",
        json=new_session_body(modules=[{"title": "Módulo 1", "hours": 4}]),
        headers=trainer,
    )
    assert bad_modules.status_code == 422
    assert bad_modules.json()["errors"][0]["field"] == "modules"

    retry = {**trainer, "Idempotency-Key": "schedule-once-001"}
    first = client.post("/sessions", json=new_session_body(), headers=retry)
    second = client.post("/sessions", json=new_session_body(), headers=retry)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.get("/sessions", headers=trainer).json()["total"] == 1
