"""Data subjects' rights on the real servers: rectification, corrections, erasure, the export."""

from __future__ import annotations

import json
from datetime import date
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


def personal(person: CanaryPerson) -> dict[str, Any]:
    """A canary person's data as the API receives it."""
    return {
        "given_names": person.given_names,
        "family_names": person.family_names,
        "document_type": "dni",
        "document_number": person.document_number,
        "birth_date": person.birth_date.isoformat(),
        "phone": person.phone,
        "address": person.address,
    }


def lima_case(*victims: dict[str, Any]) -> dict[str, Any]:
    """A walk-in case at Lima with these victims."""
    return {
        "office": "lima",
        "crime_types": ["trafficking"],
        "arrival_channel": "walk_in",
        "victims": list(victims),
    }


async def open_case(served: Any, person: CanaryPerson) -> tuple[str, str, str]:
    """A Lima case with one (minor) victim and her mother: (case id, victim id, relative id)."""
    client, worker = served.client, served.auth()
    opened = await client.post(
        "/cases",
        json=lima_case({"sex": "female", "personal_data": personal(person)}),
        headers=worker,
    )
    assert opened.status_code == 201, opened.text
    case_id, victim_id = opened.json()["case_id"], opened.json()["victims"][0]["victim_id"]
    relative = await client.post(
        f"/cases/{case_id}/victims/{victim_id}/relatives",
        json={"relationship": "parent", "personal_data": {"given_names": person.relative_name}},
        headers=worker,
    )
    assert relative.status_code == 201, relative.text
    return case_id, victim_id, relative.json()["relative_id"]


async def etag_of(served: Any, case_id: str) -> str:
    """The case's current ETag."""
    return str(
        (await served.client.get(f"/cases/{case_id}", headers=served.auth())).headers["ETag"]
    )


async def read(served: Any, path: str) -> dict[str, Any]:
    """A person's decrypted data, as a case worker reads it."""
    answer = await served.client.get(path, params={"purpose": "case_work"}, headers=served.auth())
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    return dict(answer.json())


async def events_of(kafka_bootstrap: str, case_id: str, count: int) -> list[Any]:
    """The case's first `count` events on the topic."""
    found: list[Any] = []

    async def published() -> bool:
        records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, idle=0.5)
        found[:] = [e for e in (EVENTS.decode(r.value) for r in records) if e.subject == case_id]
        return len(found) >= count

    await wait_for(published, timeout=60, interval=0.5)
    return found


async def test_rectifying_personal_data_names_fields_never_values(
    served: Any, kafka_bootstrap: str
) -> None:
    client, worker = served.client, served.auth()
    leaks = LeakChecker()
    person, corrected = leaks.new_person(), leaks.new_person()
    case_id, victim_id, relative_id = await open_case(served, person)
    path = f"/cases/{case_id}/victims/{victim_id}/personal-data"
    tag = await etag_of(served, case_id)

    # If-Match is required, and a stale one changes nothing.
    change = {"personal_data": {"given_names": corrected.given_names, "phone": None}}
    assert (await client.patch(path, json=change, headers=worker)).status_code == 428
    stale = await client.patch(path, json=change, headers={**worker, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await read(served, path))["given_names"] == person.given_names
    stored = await served.db["victim_personal_data"].find_one({"_id": victim_id})
    assert "pending" not in stored

    # Bad input: a 4xx naming the field, nothing written.
    for body, field in (
        ({"personal_data": {}}, "body.personal_data"),
        ({"personal_data": {"document_type": None}}, "body.personal_data.document_type"),
        ({"personal_data": {"birth_date": "2999-01-01"}}, "body.personal_data.birth_date"),
        ({"personal_data": {"phone": "no es un teléfono"}}, "body.personal_data.phone"),
    ):
        refused = await client.patch(path, json=body, headers={**worker, "If-Match": tag})
        assert refused.status_code == 422, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]]
    assert await etag_of(served, case_id) == tag

    # The rectification: the answer and the event name the fields, the values change.
    done = await client.patch(path, json=change, headers={**worker, "If-Match": tag})
    assert done.status_code == 200, done.text
    assert done.json()["fields"] == ["given_names", "phone"]
    assert done.headers["Cache-Control"] == "no-store"
    assert done.headers["ETag"] != tag
    assert corrected.given_names not in done.text
    now = await read(served, path)
    assert now["given_names"] == corrected.given_names
    assert now["phone"] is None
    assert now["family_names"] == person.family_names
    stored = await served.db["victim_personal_data"].find_one({"_id": victim_id})
    assert set(stored["fields"]) == {
        "given_names",
        "family_names",
        "document_type",
        "document_number",
        "birth_date",
        "address",
    }
    assert "pending" not in stored
    # The same values again change nothing and write nothing.
    same = await client.patch(
        path, json=change, headers={**worker, "If-Match": done.headers["ETag"]}
    )
    assert same.json()["fields"] == []
    assert await etag_of(served, case_id) == done.headers["ETag"]

    # A relative is rectified the same way.
    relative_path = f"/cases/{case_id}/relatives/{relative_id}/personal-data"
    relative = await client.patch(
        relative_path,
        json={"personal_data": {"given_names": corrected.relative_name}},
        headers={**worker, "If-Match": done.headers["ETag"]},
    )
    assert relative.status_code == 200, relative.text
    assert relative.json()["fields"] == ["given_names"]
    assert (await read(served, relative_path))["given_names"] == corrected.relative_name

    events = await events_of(kafka_bootstrap, case_id, 5)
    rectified = [e for e in events if e.type.endswith("personal_data_rectified")]
    assert [(e.type, e.data["fields"]) for e in rectified] == [
        ("victim.personal_data_rectified", ["given_names", "phone"]),
        ("relative.personal_data_rectified", ["given_names"]),
    ]
    await leaks.scan_kafka(kafka_bootstrap, topics=[INTAKE_EVENTS])
    leaks.assert_clean()


async def test_a_new_birth_date_moves_the_age_group_and_a_new_document_is_checked(
    served: Any, kafka_bootstrap: str
) -> None:
    client, worker = served.client, served.auth()
    leaks = LeakChecker()
    person, other = leaks.new_person(), leaks.new_person()
    case_id, victim_id, _ = await open_case(served, person)
    path = f"/cases/{case_id}/victims/{victim_id}/personal-data"
    adult_birth = date(today_lima().year - 30, 1, 15)
    grown = await client.patch(
        path,
        json={"personal_data": {"birth_date": adult_birth.isoformat()}},
        headers={**worker, "If-Match": await etag_of(served, case_id)},
    )
    assert grown.status_code == 200, grown.text
    victim = (await client.get(f"/cases/{case_id}/victims/{victim_id}", headers=worker)).json()
    assert (victim["age_group"], victim["age_at_intake"]) == (
        "adult",
        age_on(adult_birth, today_lima()),
    )
    events = await events_of(kafka_bootstrap, case_id, 5)
    corrected = next(e for e in events if e.type == "victim.attributes_corrected")
    assert corrected.data["age_group"] == "adult"
    assert adult_birth.isoformat() not in json.dumps(corrected.data)

    # A document number already registered (visible) is refused like at registration.
    taken = await client.post(
        "/cases",
        json=lima_case({"sex": "male", "personal_data": personal(other)}),
        headers=worker,
    )
    assert taken.status_code == 201, taken.text
    number = {"personal_data": {"document_number": other.document_number}}
    clash = await client.patch(
        path, json=number, headers={**worker, "If-Match": await etag_of(served, case_id)}
    )
    assert clash.status_code == 409
    assert clash.json()["existing_victim_id"] == taken.json()["victims"][0]["victim_id"]
    # A corrected number of her own: the old one no longer matches her, the new one does.
    fresh = leaks.new_person().document_number
    moved = await client.patch(
        path,
        json={"personal_data": {"document_number": fresh}},
        headers={**worker, "If-Match": await etag_of(served, case_id)},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["fields"] == ["document_number"]
    for number, status in ((fresh, 409), (person.document_number, 201)):
        data = {"document_type": "dni", "document_number": number}
        again = lima_case({"sex": "female", "personal_data": data})
        assert (await client.post("/cases", json=again, headers=worker)).status_code == status


async def test_correcting_a_victims_attributes(served: Any, kafka_bootstrap: str) -> None:
    client, worker = served.client, served.auth()
    opened = await client.post(
        "/cases",
        json=lima_case({"sex": "unknown", "age_at_intake": 17}),
        headers=worker,
    )
    case_id, victim_id = opened.json()["case_id"], opened.json()["victims"][0]["victim_id"]
    path = f"/cases/{case_id}/victims/{victim_id}"
    tag = opened.headers["ETag"]
    for body, field in (
        ({}, "body"),
        ({"sex": None}, "body.sex"),
        ({"age_group": "adult"}, "body.age_group"),
        ({"age_at_intake": 30, "age_group": "minor"}, "body.age_group"),
        ({"region_of_origin": "99"}, "body.region_of_origin"),
        ({"office": "iquitos"}, "body.office"),
    ):
        refused = await client.patch(path, json=body, headers={**worker, "If-Match": tag})
        assert refused.status_code == 422, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]]
    other_office = served.auth(id="u-iquitos", offices=frozenset({"iquitos"}))
    hidden = await client.patch(
        path, json={"sex": "female"}, headers={**other_office, "If-Match": tag}
    )
    assert hidden.status_code == 404
    fixed = await client.patch(
        path,
        json={"sex": "female", "age_at_intake": 19, "region_of_origin": "16", "disability": True},
        headers={**worker, "If-Match": tag},
    )
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["sex"], fixed.json()["age_group"]) == ("female", "adult")
    assert (
        await client.patch(path, json={"sex": "male"}, headers={**worker, "If-Match": tag})
    ).status_code == 412
    events = await events_of(kafka_bootstrap, case_id, 3)
    corrected = [e for e in events if e.type == "victim.attributes_corrected"]
    assert len(corrected) == 1
    assert corrected[0].data | {"corrected_at": None} == {
        "case_id": case_id,
        "victim_id": victim_id,
        "sex": "female",
        "age_group": "adult",
        "age_at_intake": 19,
        "nationality": None,
        "region_of_origin": "16",
        "indigenous_people": None,
        "disability": True,
        "corrected_at": None,
    }

    # With a birth date on record, the age follows it: correct the birth date instead.
    leaks = LeakChecker()
    with_birth, _, _ = await open_case(served, leaks.new_person())
    case = (await client.get(f"/cases/{with_birth}", headers=worker)).json()
    refused = await client.patch(
        f"/cases/{with_birth}/victims/{case['victims'][0]['victim_id']}",
        json={"age_group": "adult"},
        headers={**worker, "If-Match": f'"{case["version"]}"'},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.age_group"


async def test_erasing_a_relative_and_exporting_a_victim(served: Any, kafka_bootstrap: str) -> None:
    client, worker, coordinator = served.client, served.auth(), served.auth(Role.COORDINATOR)
    leaks = LeakChecker()
    person = leaks.new_person()
    case_id, victim_id, relative_id = await open_case(served, person)
    consent = await client.post(
        f"/cases/{case_id}/victims/{victim_id}/consents",
        json={
            "purpose": "data_processing",
            "given_by": "guardian",
            "guardian_relative_id": relative_id,
            "granted": True,
        },
        headers=worker,
    )
    assert consent.status_code == 201, consent.text
    care = await client.post(
        f"/cases/{case_id}/victims/{victim_id}/care",
        json={"care_type": "psychological", "provided_on": today_lima().isoformat()},
        headers=worker,
    )
    assert care.status_code == 201, care.text

    # The export: coordinators only, with a purpose; everything decrypted, every read logged.
    export_path = f"/cases/{case_id}/victims/{victim_id}/export"
    assert (
        await client.get(export_path, params={"purpose": "supervision"}, headers=worker)
    ).status_code == 403
    assert (await client.get(export_path, headers=coordinator)).status_code == 422
    exported = await client.get(export_path, params={"purpose": "supervision"}, headers=coordinator)
    assert exported.status_code == 200, exported.text
    assert exported.headers["Cache-Control"] == "no-store"
    body = exported.json()
    assert body["case"]["case_id"] == case_id
    assert body["victim"]["victim_id"] == victim_id
    assert body["personal_data"]["given_names"] == person.given_names
    assert body["personal_data"]["document_number"] == person.document_number
    assert [r["personal_data"]["given_names"] for r in body["relatives"]] == [person.relative_name]
    assert [c["consent_id"] for c in body["consents"]] == [consent.json()["consent_id"]]
    assert [c["care_id"] for c in body["care"]] == [care.json()["care_id"]]
    assert body["personal_data"]["access_id"] in [r["access_id"] for r in body["access_log"]]
    assert body["relatives"][0]["personal_data"]["access_id"] is not None
    log = await client.get(f"/cases/{case_id}/victims/{victim_id}/access-log", headers=coordinator)
    assert body["personal_data"]["access_id"] in [r["access_id"] for r in log.json()]
    assert log.json()[0]["purpose"] == "supervision"

    # A relative's own export holds her data and the consents she gave, not the victim's data.
    relative_export = f"/cases/{case_id}/relatives/{relative_id}/export"
    own = await client.get(relative_export, params={"purpose": "supervision"}, headers=coordinator)
    assert own.status_code == 200, own.text
    assert own.headers["Cache-Control"] == "no-store"
    assert own.json()["personal_data"]["given_names"] == person.relative_name
    assert [c["consent_id"] for c in own.json()["consents_given_as_guardian"]] == [
        consent.json()["consent_id"]
    ]
    assert own.json()["personal_data"]["access_id"] in [
        r["access_id"] for r in own.json()["access_log"]
    ]
    for value in (person.given_names, person.document_number, person.address):
        assert value not in own.text

    # Erasing the relative: coordinators only; her data is gone, the victim's stays.
    erasure = f"/cases/{case_id}/relatives/{relative_id}/erasure"
    assert (await client.post(erasure, headers=worker)).status_code == 403
    erased = await client.post(erasure, headers=coordinator)
    assert erased.status_code == 200, erased.text
    again = await client.post(erasure, headers=coordinator)
    assert again.json()["erased_at"] == erased.json()["erased_at"]
    gone = await client.get(
        f"/cases/{case_id}/relatives/{relative_id}/personal-data",
        params={"purpose": "case_work"},
        headers=worker,
    )
    assert gone.status_code == 410
    rectify = await client.patch(
        f"/cases/{case_id}/relatives/{relative_id}/personal-data",
        json={"personal_data": {"given_names": "Otra"}},
        headers={**worker, "If-Match": await etag_of(served, case_id)},
    )
    assert rectify.status_code == 409
    assert rectify.json()["errors"][0]["field"] == "relative_id"
    stored = await served.db["relative_personal_data"].find_one({"_id": relative_id})
    assert stored["fields"] == {}
    assert (await read(served, f"/cases/{case_id}/victims/{victim_id}/personal-data"))[
        "given_names"
    ] == person.given_names
    after = await client.get(export_path, params={"purpose": "supervision"}, headers=coordinator)
    assert after.json()["relatives"][0]["personal_data"] is None
    assert after.json()["relatives"][0]["relative"]["erased_at"] is not None
    own_after = await client.get(
        relative_export, params={"purpose": "supervision"}, headers=coordinator
    )
    assert own_after.json()["personal_data"] is None

    # Once the victim is erased, the export answers 410 like every read.
    assert (
        await client.post(f"/cases/{case_id}/victims/{victim_id}/erasure", headers=coordinator)
    ).status_code == 200
    final = await client.get(export_path, params={"purpose": "supervision"}, headers=coordinator)
    assert final.status_code == 410

    events = await events_of(kafka_bootstrap, case_id, 7)
    assert "relative.data_erased" in [e.type for e in events]
    erased_event = next(e for e in events if e.type == "victim.data_erased")
    assert erased_event.data["relative_ids"] == [relative_id]
    await leaks.scan_kafka(kafka_bootstrap, topics=[INTAKE_EVENTS])
    leaks.assert_clean()
