"""Duplicate checks across offices: nothing of another office's victim; a coordinator resolves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruta_intake.duplicates.rules import NEUTRAL_NOTICE
from ruta_shared.events import EVENTS
from ruta_shared.security.principal import Role
from ruta_shared.testing.kafka import read_topic, wait_for
from ruta_shared.testing.leak_check import LeakChecker
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

IQUITOS = frozenset({"iquitos"})


def victim(number: str, **overrides: Any) -> dict[str, Any]:
    """An adult victim with a DNI."""
    body: dict[str, Any] = {
        "sex": "female",
        "age_at_intake": 25,
        "personal_data": {"document_type": "dni", "document_number": number},
    }
    body.update(overrides)
    return body


def case(office: str, *victims: dict[str, Any]) -> dict[str, Any]:
    """A walk-in trafficking case at `office`."""
    return {
        "office": office,
        "crime_types": ["trafficking"],
        "arrival_channel": "walk_in",
        "victims": list(victims),
    }


async def iquitos_victim(served: Any, number: str) -> dict[str, Any]:
    """A victim registered by an Iquitos case worker: the case as opened."""
    opened = await served.client.post(
        "/cases",
        json=case("iquitos", victim(number)),
        headers=served.auth(id="u-iquitos", offices=IQUITOS),
    )
    assert opened.status_code == 201, opened.text
    return dict(opened.json())


def secrets_of(iquitos: dict[str, Any]) -> list[str]:
    """Everything that would tell a Lima user about the Iquitos victim."""
    registered = iquitos["victims"][0]
    return [
        registered["victim_id"],
        iquitos["case_id"],
        iquitos["case_code"],
        "iquitos",
        "IQT",
        registered["registered_at"],
        iquitos["opened_at"],
    ]


async def pending_for(served: Any, victim_id: str) -> dict[str, Any]:
    """The pending possible duplicate a coordinator sees for a victim record."""
    listed = await served.client.get(
        "/possible-duplicates", params={"limit": 100}, headers=served.auth(Role.COORDINATOR)
    )
    assert listed.status_code == 200, listed.text
    mine = [d for d in listed.json()["items"] if d["record"]["victim_id"] == victim_id]
    assert len(mine) == 1, listed.text
    return dict(mine[0])


async def test_the_attack_from_the_issue_discloses_nothing_and_registers_the_victim(
    served: Any, kafka_bootstrap: str
) -> None:
    client, lima = served.client, served.auth()
    leaks = LeakChecker()
    number, second = leaks.new_person().document_number, leaks.new_person().document_number
    iquitos = await iquitos_victim(served, number)
    iquitos_second = await iquitos_victim(served, second)

    # A Lima case worker registers a victim with the same document number.
    opened = await client.post("/cases", json=case("lima", victim(number)), headers=lima)
    assert opened.status_code == 201, opened.text
    registered = opened.json()["victims"][0]
    assert registered["duplicate_notice"] == NEUTRAL_NOTICE
    assert "existing_victim_id" not in opened.text
    for secret in secrets_of(iquitos):
        assert secret not in opened.text, secret
    # Into an existing Lima case, the same: registered, a neutral notice, nothing named.
    added = await client.post(
        f"/cases/{opened.json()['case_id']}/victims", json=victim(second), headers=lima
    )
    assert added.status_code == 201, added.text
    assert added.json()["duplicate_notice"] == NEUTRAL_NOTICE
    for secret in secrets_of(iquitos_second):
        assert secret not in added.text, secret
    # Reading the case later shows no notice and no link either.
    later = await client.get(f"/cases/{opened.json()['case_id']}", headers=lima)
    assert all(v["duplicate_notice"] is None for v in later.json()["victims"])
    for secret in secrets_of(iquitos):
        assert secret not in later.text, secret

    # The events record the possible duplicate without naming the Iquitos victim.
    detected: list[Any] = []

    async def published() -> bool:
        records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, idle=0.5)
        detected[:] = [
            e
            for e in (EVENTS.decode(r.value) for r in records)
            if e.type == "victim.possible_duplicate_detected"
            and e.subject == opened.json()["case_id"]
        ]
        return len(detected) == 2

    await wait_for(published, timeout=60, interval=0.5)
    assert {e.data["victim_id"] for e in detected} == {
        registered["victim_id"],
        added.json()["victim_id"],
    }
    for event in detected:
        assert set(event.data) == {"case_id", "victim_id", "duplicate_id", "detected_at"}
        for secret in secrets_of(iquitos) + secrets_of(iquitos_second):
            assert secret not in json.dumps(event.data), secret


async def test_a_match_the_caller_may_see_still_names_the_victim(served: Any) -> None:
    client = served.client
    number = LeakChecker().new_person().document_number
    iquitos = await iquitos_victim(served, number)
    existing = iquitos["victims"][0]["victim_id"]
    # An Iquitos case worker (the same office) gets the 409 with the id, as before.
    again = await client.post(
        "/cases",
        json=case("iquitos", victim(number)),
        headers=served.auth(id="u-iquitos", offices=IQUITOS),
    )
    assert again.status_code == 409
    assert again.json()["existing_victim_id"] == existing
    # A Lima case worker who broke the glass on that case may see it: 409 with the id too.
    lima = served.auth(id="u-lima-glass")
    grant = await client.post(
        f"/cases/{iquitos['case_id']}/break-glass",
        json={"justification": "La fiscalía de turno pide confirmar la identidad de la víctima"},
        headers=lima,
    )
    assert grant.status_code == 201, grant.text
    seen = await client.post("/cases", json=case("lima", victim(number)), headers=lima)
    assert seen.status_code == 409
    assert seen.json()["existing_victim_id"] == existing
    # A worker of both offices too.
    both = served.auth(id="u-both", offices=frozenset({"lima", "iquitos"}))
    assert (
        await client.post("/cases", json=case("lima", victim(number)), headers=both)
    ).status_code == 409


async def test_a_coordinator_links_the_records_as_one_person(
    served: Any, kafka_bootstrap: str
) -> None:
    client, coordinator = served.client, served.auth(Role.COORDINATOR)
    number = LeakChecker().new_person().document_number
    iquitos = await iquitos_victim(served, number)
    other_id = iquitos["victims"][0]["victim_id"]
    opened = await client.post("/cases", json=case("lima", victim(number)), headers=served.auth())
    lima_case, lima_victim = opened.json()["case_id"], opened.json()["victims"][0]["victim_id"]

    # Case workers may not list or resolve possible duplicates.
    assert (await client.get("/possible-duplicates", headers=served.auth())).status_code == 403
    pending = await pending_for(served, lima_victim)
    assert pending["status"] == "pending"
    assert pending["record"] == {
        "case_id": lima_case,
        "case_code": opened.json()["case_code"],
        "office": "lima",
        "victim_id": lima_victim,
    }
    assert pending["other"]["victim_id"] == other_id
    assert pending["other"]["office"] == "iquitos"
    path = f"/possible-duplicates/{pending['duplicate_id']}/resolution"
    assert (
        await client.post(path, json={"outcome": "same_person"}, headers=served.auth())
    ).status_code == 403

    # Bad decisions are refused naming the field.
    wrong = await client.post(
        path, json={"outcome": "same_person", "kept_victim_id": "someone-else"}, headers=coordinator
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.kept_victim_id"
    two = await client.post(
        path,
        json={"outcome": "different_people", "kept_victim_id": other_id},
        headers=coordinator,
    )
    assert two.status_code == 422
    assert two.json()["errors"][0]["field"] == "body.kept_victim_id"
    unknown = await client.post(
        "/possible-duplicates/nothing-here/resolution",
        json={"outcome": "same_person"},
        headers=coordinator,
    )
    assert unknown.status_code == 404

    # The same person: the older record counts her; resolving again the same way is a no-op.
    merged = await client.post(path, json={"outcome": "same_person"}, headers=coordinator)
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "same_person"
    assert merged.json()["kept_victim_id"] == other_id
    assert merged.json()["resolved_by"] == "u-coordinator"
    again = await client.post(path, json={"outcome": "same_person"}, headers=coordinator)
    assert again.status_code == 200
    assert again.json()["resolved_at"] == merged.json()["resolved_at"]
    changed_mind = await client.post(
        path, json={"outcome": "different_people"}, headers=coordinator
    )
    assert changed_mind.status_code == 409
    listed = await client.get("/possible-duplicates", params={"limit": 100}, headers=coordinator)
    assert pending["duplicate_id"] not in [d["duplicate_id"] for d in listed.json()["items"]]
    done = await client.get(
        "/possible-duplicates",
        params={"status": "same_person", "limit": 100},
        headers=coordinator,
    )
    assert pending["duplicate_id"] in [d["duplicate_id"] for d in done.json()["items"]]

    # The records are linked: each one's export names the other.
    exported = await client.get(
        f"/cases/{lima_case}/victims/{lima_victim}/export",
        params={"purpose": "supervision"},
        headers=coordinator,
    )
    assert exported.status_code == 200, exported.text
    assert exported.json()["linked_records"] == [
        {"case_id": iquitos["case_id"], "victim_id": other_id}
    ]
    back = await client.get(
        f"/cases/{iquitos['case_id']}/victims/{other_id}/export",
        params={"purpose": "supervision"},
        headers=coordinator,
    )
    assert back.json()["linked_records"] == [{"case_id": lima_case, "victim_id": lima_victim}]
    # The Lima case worker still sees nothing of Iquitos.
    lima_view = await client.get(f"/cases/{lima_case}", headers=served.auth())
    for secret in secrets_of(iquitos):
        assert secret not in lima_view.text, secret

    resolved: list[Any] = []

    async def published() -> bool:
        records = await read_topic(kafka_bootstrap, INTAKE_EVENTS, idle=0.5)
        resolved[:] = [
            e
            for e in (EVENTS.decode(r.value) for r in records)
            if e.type == "victim.duplicate_resolved"
            and e.data["duplicate_id"] == pending["duplicate_id"]
        ]
        return bool(resolved)

    await wait_for(published, timeout=60, interval=0.5)
    assert len(resolved) == 1
    assert resolved[0].data["outcome"] == "same_person"
    assert resolved[0].data["kept_victim_id"] == other_id
    assert resolved[0].data["other_case_id"] == iquitos["case_id"]


async def test_a_coordinator_confirms_two_different_people(served: Any) -> None:
    client, coordinator = served.client, served.auth(Role.COORDINATOR)
    number = LeakChecker().new_person().document_number
    await iquitos_victim(served, number)
    opened = await client.post("/cases", json=case("lima", victim(number)), headers=served.auth())
    lima_case, lima_victim = opened.json()["case_id"], opened.json()["victims"][0]["victim_id"]
    pending = await pending_for(served, lima_victim)
    answer = await client.post(
        f"/possible-duplicates/{pending['duplicate_id']}/resolution",
        json={"outcome": "different_people"},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "different_people"
    assert answer.json()["kept_victim_id"] is None
    exported = await client.get(
        f"/cases/{lima_case}/victims/{lima_victim}/export",
        params={"purpose": "supervision"},
        headers=coordinator,
    )
    assert exported.json()["linked_records"] == []
