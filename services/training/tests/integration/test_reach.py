"""Distinct reach: one person attending several sessions counts once; head counts add up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]


def register(training: Any, **fields: Any) -> dict[str, Any]:
    body = {"office": "lima", "given_names": "Ana", "family_names": "Quispe", **fields}
    response = training.client.post("/participants", json=body, headers=training.auth())
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_distinct_reach_counts_each_person_once(training: Any, new_session_body: Body) -> None:
    client, trainer = training.client, training.auth()
    ana = register(training, document_number="40123456", sex="female", audience="car_staff")
    assert ana["created"] is True
    # The same person typed differently is found again by the blind index.
    assert register(training, document_number="4012-3456") == {
        "id": ana["id"],
        "created": False,
        "notice": None,
    }
    luis = register(
        training, email="Luis.Rojas@example.pe", sex="male", audience="justice_operators"
    )
    assert register(training, email=" luis.rojas@EXAMPLE.pe ")["id"] == luis["id"]
    rosa = register(training, document_number="09876543", email="rosa@example.pe", sex="female")
    assert register(training, email="rosa@example.pe")["id"] == rosa["id"]

    sessions = [
        client.post(
            "/sessions",
            json=new_session_body(region=region, starts_on=day, ends_on=day),
            headers=trainer,
        ).json()["id"]
        for region, day in (("15", "2017-03-01"), ("16", "2017-06-01"), ("15", "2017-09-01"))
    ]
    attendance = {sessions[0]: [ana, luis, rosa], sessions[1]: [ana, luis], sessions[2]: [ana]}
    for sid, people in attendance.items():
        for person in people:
            recorded = client.post(
                f"/sessions/{sid}/attendance",
                json={"participant_id": person["id"]},
                headers=trainer,
            )
            assert recorded.status_code == 201, recorded.text
    # Recording the same attendance again changes nothing.
    repeat = client.post(
        f"/sessions/{sessions[0]}/attendance", json={"participant_id": ana["id"]}, headers=trainer
    )
    assert repeat.status_code == 200
    assert repeat.json()["recorded"] == "unchanged"
    talk = client.put(
        f"/sessions/{sessions[2]}/headcounts/adolescents",
        json={"female": 120, "male": 75, "unknown": 5},
        headers=trainer,
    )
    assert talk.status_code == 200
    assert talk.json()["total"] == 200

    reach = client.get("/reach", headers=trainer).json()
    assert reach["sessions"] == 3
    assert reach["attendances"] == 6
    assert reach["distinct_participants"] == 3
    assert reach["headcount"] == 200
    assert reach["total_reach"] == 203
    assert reach["by_sex"] == {"female": 2 + 120, "male": 1 + 75, "unknown": 5}
    # Rosa's audience defaults to the session's first audience.
    assert reach["by_audience"] == {"adolescents": 200, "car_staff": 1, "justice_operators": 2}
    assert reach["by_region"] == {"15": 3 + 200}  # each person at their first session
    assert sum(reach["by_sex"].values()) == reach["total_reach"]
    later = client.get("/reach", params={"starts_from": "2017-05-01"}, headers=trainer).json()
    assert later["distinct_participants"] == 2  # Ana and Luis came back in June
    assert later["by_region"] == {"15": 200, "16": 2}

    events = [e for sid in sessions for e in training.events(sid)]
    attended = [e for e in events if e.type == "training.attendance_recorded"]
    assert len(attended) == 6
    assert {e.data["participant_id"] for e in attended} == {ana["id"], luis["id"], rosa["id"]}
    assert {e.data["sex"] for e in attended if e.data["participant_id"] == ana["id"]} == {"female"}
    headcounts = [e for e in events if e.type == "training.headcount_recorded"]
    assert [(e.data["female"], e.data["male"], e.data["unknown"]) for e in headcounts] == [
        (120, 75, 5)
    ]


def test_assessments_give_the_average_gain(training: Any, new_session_body: Body) -> None:
    client, trainer = training.client, training.auth()
    sid = client.post("/sessions", json=new_session_body(), headers=trainer).json()["id"]
    people = [register(training, document_number=f"7000000{n}") for n in range(3)]
    outsider = register(training, document_number="71111111")
    scores = [(40, 80), (55, 70), (60, 60)]
    for person, (pre, post) in zip(people, scores, strict=True):
        client.post(
            f"/sessions/{sid}/attendance", json={"participant_id": person["id"]}, headers=trainer
        )
        response = client.post(
            f"/sessions/{sid}/assessments",
            json={"participant_id": person["id"], "pre_score": pre, "post_score": post},
            headers=trainer,
        )
        assert response.status_code == 201
        assert response.json()["gain"] == post - pre
    missing = client.post(
        f"/sessions/{sid}/assessments",
        json={"participant_id": outsider["id"], "pre_score": 1, "post_score": 2},
        headers=trainer,
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "participant_id"

    summary = client.get(f"/sessions/{sid}", headers=trainer).json()["assessment"]
    assert summary == {
        "count": 3,
        "average_pre": 51.67,
        "average_post": 70.0,
        "average_gain": 18.33,
    }
    listed = client.get(f"/sessions/{sid}/assessments", headers=trainer).json()
    assert sorted(i["gain"] for i in listed["items"]) == [0, 15, 40]
    recorded = [e for e in training.events(sid) if e.type == "training.assessment_recorded"]
    assert sorted((e.data["pre_score"], e.data["post_score"]) for e in recorded) == sorted(scores)


def test_module_attendance_accumulates(training: Any, new_session_body: Body) -> None:
    client, trainer = training.client, training.auth()
    course = new_session_body(
        format="course",
        pedagogic_hours=12,
        modules=[{"title": "Marco legal", "hours": 4}, {"title": "Atención", "hours": 8}],
    )
    sid = client.post("/sessions", json=course, headers=trainer).json()["id"]
    person = register(training, document_number="42424242")
    first = client.post(
        f"/sessions/{sid}/attendance",
        json={"participant_id": person["id"], "modules_attended": [1]},
        headers=trainer,
    )
    assert first.json()["hours_attended"] == 4
    second = client.post(
        f"/sessions/{sid}/attendance",
        json={"participant_id": person["id"], "modules_attended": [2]},
        headers=trainer,
    )
    assert second.json()["recorded"] == "updated"
    assert second.json()["hours_attended"] == 12
    assert second.json()["modules_attended"] == [1, 2]
    too_many = client.post(
        f"/sessions/{sid}/attendance",
        json={"participant_id": person["id"], "hours_attended": 13},
        headers=trainer,
    )
    assert too_many.status_code == 422
    assert client.get("/reach", headers=trainer).json()["attendances"] == 1
