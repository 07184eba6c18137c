"""A keyed POST re-run after its claim's lease (a crash) writes and announces nothing twice."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from ruta_shared.lima import today_lima
from ruta_shared.testing.claims import announced, post_after_crash
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

VICTIM: dict[str, Any] = {
    "sex": "female",
    "nationality": "PE",
    "region_of_origin": "16",
    "personal_data": {"given_names": "Persona", "birth_date": "1990-01-01"},
}
CASE: dict[str, Any] = {
    "office": "lima",
    "crime_types": ["trafficking"],
    "exploitation_purposes": ["sexual"],
    "region_of_exploitation": "17",
    "arrival_channel": "institution_referral",
    "referring_institution_kind": "prosecutor",
    "victims": [VICTIM],
}


@pytest.mark.parametrize(
    ("path", "field", "id_field", "event_type", "body"),
    [
        ("victims", "victims", "victim_id", "victim.registered", VICTIM),
        (
            "victims/{victim}/relatives",
            "relatives",
            "relative_id",
            "relative.registered",
            {"relationship": "parent", "personal_data": {"given_names": "Madre"}},
        ),
        (
            "victims/{victim}/consents",
            "consents",
            "consent_id",
            "consent.recorded",
            {"purpose": "data_processing", "given_by": "victim", "granted": True},
        ),
        (
            "victims/{victim}/care",
            "care",
            "care_id",
            "care.provided",
            {"care_type": "psychological", "provided_on": None},
        ),
    ],
)
async def test_a_rerun_after_a_crash_records_once(
    served: Any,
    kafka_bootstrap: str,
    path: str,
    field: str,
    id_field: str,
    event_type: str,
    body: dict[str, Any],
) -> None:
    worker = served.auth()
    opened = await served.client.post(
        "/cases", json=CASE, headers={**worker, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert opened.status_code == 201, opened.text
    case_id, victim_id = opened.json()["case_id"], opened.json()["victims"][0]["victim_id"]
    if "provided_on" in body:
        body = {**body, "provided_on": today_lima().isoformat()}
    before = len((await served.db.cases.find_one({"_id": case_id})).get(field) or [])
    url = f"/cases/{case_id}/{path.format(victim=victim_id)}"
    headers = {**worker, "Idempotency-Key": f"caida-{uuid.uuid4().hex}"}
    first, retry = await post_after_crash(
        served.client, served.db.idempotency_keys, url, body, headers
    )
    assert retry[id_field] == first[id_field]
    stored = (await served.db.cases.find_one({"_id": case_id})).get(field) or []
    assert len(stored) == before + 1
    expected = 2 if field == "victims" else 1  # the case's own victim, then the new one
    events = await announced(kafka_bootstrap, INTAKE_EVENTS, served.db.cases, case_id, event_type)
    assert events == expected
