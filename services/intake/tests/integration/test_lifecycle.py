"""The whole life of a case over HTTP, the events that come out, and no personal data leaking."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ruta_intake.victims.rules import age_on
from ruta_shared.events import EVENTS
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.testing.leak_check import CanaryPerson, LeakChecker
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

_keys: Iterator[int] = iter(range(10**6))


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": f"k-{datetime.now(UTC).timestamp()}-{next(_keys)}"}


def victim_body(person: CanaryPerson, **overrides: Any) -> dict[str, Any]:
    """A victim with the canary person's personal data."""
    body: dict[str, Any] = {
        "sex": "female",
        "nationality": "PE",
        "region_of_origin": "16",
        "indigenous_people": True,
        "disability": False,
        "trafficking": {
            "recruitment_method": "job_offer",
            "means_of_control": ["debt_bondage", "withheld_documents"],
            "exploitation_setting": "bar_or_nightclub",
            "exploitation_region": "17",
        },
        "personal_data": {
            "given_names": person.given_names,
            "family_names": person.family_names,
            "document_type": "dni",
            "document_number": person.document_number,
            "birth_date": person.birth_date.isoformat(),
            "phone": person.phone,
            "address": person.address,
            "notes": person.notes,
        },
    }
    body.update(overrides)
    return body


def case_body(*victims: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A Lima case referred by a prosecutor."""
    body: dict[str, Any] = {
        "office": "lima",
        "crime_types": ["trafficking", "csec"],
        "exploitation_purposes": ["sexual"],
        "region_of_exploitation": "17",
        "arrival_channel": "institution_referral",
        "referring_institution_kind": "prosecutor",
        "victims": list(victims),
    }
    body.update(overrides)
    return body


async def test_case_lifecycle_publishes_its_events_and_leaks_no_personal_data(
    served: Any, kafka_bootstrap: str
) -> None:
    client, worker, coordinator = served.client, served.auth(), served.auth(Role.COORDINATOR)
    leaks = LeakChecker()
    person = leaks.new_person()
    client.event_hooks["response"] = [leaks.record_response]
    try:
        with leaks.capture_logs():
            # Open a case with one (minor) victim.
            opened = await client.post(
                "/cases", json=case_body(victim_body(person)), headers={**worker, **key()}
            )
            assert opened.status_code == 201, opened.text
            case = opened.json()
            case_id = case["case_id"]
            year = today_lima().year
            assert re.fullmatch(rf"LIM-{year}-\d{{4}}", case["case_code"])
            assert case["status"] == "open"
            victim = case["victims"][0]
            victim_id = victim["victim_id"]
            expected_age = age_on(person.birth_date, today_lima())
            assert (victim["age_at_intake"], victim["age_group"]) == (expected_age, "minor")
            assert victim["trafficking"]["recruitment_method"] == "job_offer"
            assert opened.headers["ETag"] == '"2"'
            assert person.given_names not in opened.text

            # A relative (the mother), who is also the guardian giving consent.
            relative = await client.post(
                f"/cases/{case_id}/victims/{victim_id}/relatives",
                json={
                    "relationship": "parent",
                    "personal_data": {"given_names": person.relative_name},
                },
                headers={**worker, **key()},
            )
            assert relative.status_code == 201, relative.text
            relative_id = relative.json()["relative_id"]

            # A minor's consent must come from a guardian.
            by_victim = await client.post(
                f"/cases/{case_id}/victims/{victim_id}/consents",
                json={"purpose": "data_processing", "given_by": "victim", "granted": True},
                headers={**worker, **key()},
            )
            assert by_victim.status_code == 422
            assert by_victim.json()["errors"][0]["field"] == "given_by"
            consents = []
            for granted in (True, True):
                answer = await client.post(
                    f"/cases/{case_id}/victims/{victim_id}/consents",
                    json={
                        "purpose": "disclosure",
                        "institution_kind": "prosecutor",
                        "given_by": "guardian",
                        "guardian_relative_id": relative_id,
                        "granted": granted,
                    },
                    headers={**worker, **key()},
                )
                assert answer.status_code == 201, answer.text
                consents.append(answer.json())
            assert [c["version"] for c in consents] == [1, 2]
            assert consents[0]["consent_id"] == consents[1]["consent_id"]
            withdrawn = await client.post(
                f"/cases/{case_id}/consents/{consents[0]['consent_id']}/withdrawal",
                json={},
                headers={**worker, **key()},
            )
            assert withdrawn.status_code == 200, withdrawn.text
            assert withdrawn.json()["version"] == 2
            assert withdrawn.json()["withdrawn_at"] is not None

            # Care given: a return trip paid for.
            care = await client.post(
                f"/cases/{case_id}/victims/{victim_id}/care",
                json={
                    "care_type": "return_travel_funding",
                    "provided_on": today_lima().isoformat(),
                    "duration_minutes": 90,
                    "amount_pen": "350.50",
                },
                headers={**worker, **key()},
            )
            assert care.status_code == 201, care.text
            assert care.json()["professional_id"] == "u-case_worker"
            listed = await client.get(f"/cases/{case_id}/care", headers=worker)
            assert listed.json()["total"] == 1
            assert listed.json()["items"][0]["amount_pen"] == "350.50"

            # Status: open → in care → closed (by a coordinator) → reopened.
            current = await client.get(f"/cases/{case_id}", headers=worker)
            version = current.headers["ETag"]
            in_care = await client.post(
                f"/cases/{case_id}/status",
                json={"status": "in_care"},
                headers={**worker, "If-Match": version},
            )
            assert in_care.status_code == 200, in_care.text
            assert in_care.json()["status"] == "in_care"
            closing = {"closure_reason": "reintegrated"}
            refused = await client.post(
                f"/cases/{case_id}/closure",
                json=closing,
                headers={**worker, "If-Match": in_care.headers["ETag"]},
            )
            assert refused.status_code == 403
            closed = await client.post(
                f"/cases/{case_id}/closure",
                json=closing,
                headers={**coordinator, "If-Match": in_care.headers["ETag"]},
            )
            assert closed.status_code == 200, closed.text
            assert closed.json()["closure_reason"] == "reintegrated"
            late_care = await client.post(
                f"/cases/{case_id}/victims/{victim_id}/care",
                json={"care_type": "legal", "provided_on": today_lima().isoformat()},
                headers=worker,
            )
            assert late_care.status_code == 409
            reopened = await client.post(
                f"/cases/{case_id}/reopening",
                json={},
                headers={**worker, "If-Match": closed.headers["ETag"]},
            )
            assert reopened.status_code == 200, reopened.text
            assert reopened.json()["status"] == "open"
            assert reopened.json()["closure_reason"] is None

            # Reading personal data needs a purpose, and is recorded.
            no_purpose = await client.get(
                f"/cases/{case_id}/victims/{victim_id}/personal-data", headers=worker
            )
            assert no_purpose.status_code == 422
            read = await client.get(
                f"/cases/{case_id}/victims/{victim_id}/personal-data",
                params={"purpose": "legal_aid"},
                headers=worker,
            )
            assert read.status_code == 200, read.text
            plain = read.json()
            assert plain["given_names"] == person.given_names
            assert plain["document_number"] == person.document_number
            assert plain["birth_date"] == person.birth_date.isoformat()
            access_id = plain["access_id"]
            log = await client.get(
                f"/cases/{case_id}/victims/{victim_id}/access-log", headers=coordinator
            )
            assert log.status_code == 200
            assert [r["access_id"] for r in log.json()] == [access_id]
            assert log.json()[0]["purpose"] == "legal_aid"

            # Stored encrypted: nothing readable in the database.
            stored = await served.db["victim_personal_data"].find_one({"_id": victim_id})
            assert stored["fields"]["given_names"].startswith("rk1:")
            case_doc = await served.db["cases"].find_one({"_id": case_id})
            leaks.scan_text("database", "cases", json.dumps(case_doc, default=str))
            leaks.scan_text("database", "victim_personal_data", json.dumps(stored, default=str))

            # Erasure: coordinators only; then reads answer 410 and the statistics stay.
            assert (
                await client.post(f"/cases/{case_id}/victims/{victim_id}/erasure", headers=worker)
            ).status_code == 403
            erased = await client.post(
                f"/cases/{case_id}/victims/{victim_id}/erasure", headers=coordinator
            )
            assert erased.status_code == 200, erased.text
            assert erased.json()["relative_ids"] == [relative_id]
            again = await client.post(
                f"/cases/{case_id}/victims/{victim_id}/erasure", headers=coordinator
            )
            assert again.json()["erased_at"] == erased.json()["erased_at"]
            for path in (
                f"/cases/{case_id}/victims/{victim_id}/personal-data",
                f"/cases/{case_id}/relatives/{relative_id}/personal-data",
            ):
                gone = await client.get(path, params={"purpose": "case_work"}, headers=worker)
                assert gone.status_code == 410
                assert "eliminados" in gone.json()["detail"]
            after = (await client.get(f"/cases/{case_id}", headers=worker)).json()
            assert after["victims"][0]["age_group"] == "minor"
            assert after["victims"][0]["erased_at"] is not None
            wiped = await served.db["victim_personal_data"].find_one({"_id": victim_id})
            assert wiped["fields"] == {}
            assert wiped["document_index"] is None
    finally:
        client.event_hooks["response"] = []

    # The events, in order, keyed by the case, with sequences 1..n.
    expected = [
        "case.opened",
        "victim.registered",
        "relative.registered",
        "consent.recorded",
        "consent.recorded",
        "consent.withdrawn",
        "care.provided",
        "case.status_changed",
        "case.status_changed",
        "case.closed",
        "case.status_changed",
        "case.reopened",
        "victim.data_erased",
    ]
    found: list[Any] = []

    async def all_published() -> bool:
        records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, idle=0.5)
        found[:] = [EVENTS.decode(r.value) for r in records]
        ours = [e for e in found if e.subject == case_id]
        return len(ours) >= len(expected) and any(
            e.type == "pii.accessed" and e.data["access_id"] == access_id for e in found
        )

    await wait_for(all_published, timeout=60, interval=0.5)
    ours = [e for e in found if e.subject == case_id]
    assert [e.type for e in ours] == expected
    assert [e.sequence for e in ours] == list(range(1, len(expected) + 1))
    assert {e.source for e in ours} == {"intake"}
    for envelope in ours:
        EVENTS.payload(envelope)  # every payload validates against its model
    registered = ours[1].data
    assert registered["age_group"] == "minor"
    assert registered["region_of_origin"] == "16"
    assert ours[-1].data["relative_ids"] == [relative_id]
    accessed = next(
        e for e in found if e.type == "pii.accessed" and e.data["access_id"] == access_id
    )
    assert accessed.data["case_id"] == case_id
    assert accessed.data["subject_id"] == victim_id
    assert accessed.actor.id == "u-case_worker"

    # The leak check: Kafka, logs, metrics, error responses, URLs and the case document.
    leaks.scan_metrics((await client.get("/metrics")).text)
    await leaks.scan_kafka(kafka_bootstrap, topics=[INTAKE_EVENTS])
    leaks.assert_clean()


async def test_reads_are_scoped_to_the_callers_offices(served: Any) -> None:
    client = served.client
    leaks = LeakChecker()
    opened = await client.post(
        "/cases",
        json=case_body(
            victim_body(leaks.new_person()),
            office="iquitos",
            arrival_channel="walk_in",
            referring_institution_kind=None,
        ),
        headers=served.auth(offices=frozenset({"iquitos"})),
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    lima_worker = served.auth()
    assert (await client.get(f"/cases/{case_id}", headers=lima_worker)).status_code == 404
    listed = await client.get("/cases", params={"office": "iquitos"}, headers=lima_worker)
    assert listed.json()["total"] == 0
    # Opening a case at another office is refused, naming the field.
    refused = await client.post(
        "/cases",
        json=case_body(victim_body(leaks.new_person()), office="cusco"),
        headers=lima_worker,
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "body.office"
    # Break the glass: a justification gives time-limited access, and it is recorded.
    grant = await client.post(
        f"/cases/{case_id}/break-glass",
        json={"justification": "Llamada urgente de la fiscalía de turno sobre esta víctima"},
        headers=lima_worker,
    )
    assert grant.status_code == 201, grant.text
    assert (await client.get(f"/cases/{case_id}", headers=lima_worker)).status_code == 200
    coordinator = served.auth(Role.COORDINATOR)
    mine = await client.get(
        "/cases",
        params={
            "office": "iquitos",
            "status": "open",
            "crime_type": "csec",
            "region": "17",
            "opened_from": (today_lima() - timedelta(days=1)).isoformat(),
            "opened_to": (today_lima() + timedelta(days=1)).isoformat(),
        },
        headers=coordinator,
    )
    assert mine.status_code == 200
    assert case_id in [c["case_id"] for c in mine.json()["items"]]
    none = await client.get(
        "/cases", params={"office": "iquitos", "crime_type": "child_labour"}, headers=coordinator
    )
    assert case_id not in [c["case_id"] for c in none.json()["items"]]
