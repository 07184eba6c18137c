"""The participant duplicate check never discloses another office's person (issue 14, finding 2),
and a coordinator merges the pair or confirms two people; reach stays right after a merge."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruta_shared.security.principal import Role
from ruta_training.participants.models import DUPLICATE_NOTICE

pytestmark = pytest.mark.integration

EMAIL = "rosa.huaman@example.pe"


def test_a_match_in_another_office_is_never_disclosed(training: Any) -> None:
    iquitos, lima = training.trainer("iquitos"), training.trainer("lima")
    theirs = training.register(
        iquitos,
        office="iquitos",
        given_names="Rosa",
        family_names="Huamán",
        email=EMAIL,
        phone="+51 965 111 222",
    )
    assert theirs.status_code == 201
    theirs_id = theirs.json()["id"]

    # The attack of the issue: lima registers a participant with the iquitos person's email.
    ours = training.register(lima, given_names="R.", family_names="H.", email=EMAIL)
    assert ours.status_code == 201
    answer = ours.json()
    assert answer["created"] is True
    assert answer["id"] != theirs_id
    assert answer["notice"] == DUPLICATE_NOTICE
    assert set(answer) == {"id", "created", "notice"}  # no id, office or date of theirs
    assert theirs_id not in ours.text
    assert "iquitos" not in ours.text
    ours_id = answer["id"]

    # Lima cannot read the iquitos person, and its own participant holds what lima typed.
    assert training.client.get(f"/participants/{theirs_id}", headers=lima).status_code == 404
    mine = training.client.get(f"/participants/{ours_id}", headers=lima).json()
    assert (mine["given_names"], mine["phone"], mine["offices"]) == ("R.", None, ["lima"])
    # The iquitos person's offices were not widened.
    assert training.db["participants"].find_one({"_id": theirs_id})["offices"] == ["iquitos"]
    listed = training.client.get("/participants", headers=lima).json()
    assert [p["id"] for p in listed["items"]] == [ours_id]

    # Registering again in either office finds that office's own participant.
    again = training.register(lima, email=EMAIL.upper())
    assert again.status_code == 200
    assert again.json() == {"id": ours_id, "created": False, "notice": DUPLICATE_NOTICE}
    home = training.register(iquitos, office="iquitos", email=EMAIL)
    assert home.json()["id"] == theirs_id
    # A registration in an office the caller does not work in is refused, naming the field.
    elsewhere = training.register(lima, office="iquitos", email=EMAIL)
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["field"] == "office"

    # One pending duplicate, recorded with an event that carries no personal data.
    pending = list(training.db["participant_duplicates"].find({"status": "pending"}))
    assert len(pending) == 1
    assert sorted(pending[0]["participant_ids"]) == sorted([ours_id, theirs_id])
    events = [e for e in training.events() if e.type == "training.participant_duplicate_suspected"]
    assert len(events) == 1
    assert sorted(events[0].data["participant_ids"]) == sorted([ours_id, theirs_id])
    assert events[0].data["matched_on"] == ["email"]
    assert EMAIL not in events[0].model_dump_json().lower()
    assert "Rosa" not in events[0].model_dump_json()


def test_within_the_callers_offices_a_match_is_the_same_person(training: Any) -> None:
    both = training.trainer("cusco", "lima")
    first = training.register(both, office="cusco", document_number="41414141").json()
    second = training.register(both, office="lima", document_number="4141-4141")
    assert second.status_code == 200
    assert second.json() == {"id": first["id"], "created": False, "notice": None}
    doc = training.db["participants"].find_one({"_id": first["id"]})
    assert sorted(doc["offices"]) == ["cusco", "lima"]
    assert training.db["participant_duplicates"].count_documents({}) == 0


def test_a_coordinator_merges_the_pair_and_reach_counts_the_person_once(training: Any) -> None:
    client = training.client
    iquitos, lima = training.trainer("iquitos"), training.trainer("lima")
    coordinator = training.auth(Role.COORDINATOR)
    theirs = training.register(iquitos, office="iquitos", document_number="42424242").json()["id"]
    ours = training.register(lima, document_number="42424242", sex="female").json()["id"]
    iquitos_session = training.attended(iquitos, "iquitos", theirs)
    lima_session = training.attended(lima, "lima", ours)
    # Lima's session is held and our participant gets a certificate before the merge.
    version = client.get(f"/sessions/{lima_session}", headers=lima).headers["ETag"]
    held = client.post(
        f"/sessions/{lima_session}/hold", json={}, headers={**lima, "If-Match": version}
    )
    assert held.status_code == 200
    issued = client.post(
        f"/sessions/{lima_session}/certificates", json={"participant_id": ours}, headers=lima
    ).json()
    assert client.get("/reach", headers=coordinator).json()["distinct_participants"] == 2

    # Only coordinators see and resolve duplicates.
    assert client.get("/participant-duplicates", headers=lima).status_code == 403
    listing = client.get("/participant-duplicates", headers=coordinator)
    assert listing.status_code == 200
    [pair] = listing.json()["items"]
    assert {p["id"]: p["offices"] for p in pair["participants"]} == {
        theirs: ["iquitos"],
        ours: ["lima"],
    }
    assert pair["matched_on"] == ["document_number"]
    wrong = client.post(
        f"/participant-duplicates/{pair['id']}/merge", json={"keep": "nobody"}, headers=coordinator
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "keep"

    merged = client.post(
        f"/participant-duplicates/{pair['id']}/merge", json={"keep": theirs}, headers=coordinator
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged"
    assert merged.json()["kept_participant_id"] == theirs
    repeat = client.post(
        f"/participant-duplicates/{pair['id']}/merge", json={"keep": theirs}, headers=coordinator
    )
    assert repeat.status_code == 200
    other_way = client.post(f"/participant-duplicates/{pair['id']}/distinct", headers=coordinator)
    assert other_way.status_code == 409

    reach = client.get("/reach", headers=coordinator).json()
    assert (reach["distinct_participants"], reach["attendances"]) == (1, 2)
    attendance = client.get(f"/sessions/{lima_session}/attendance", headers=lima).json()
    assert [a["participant_id"] for a in attendance["items"]] == [theirs]
    # Lima's old id now reaches the person kept; the merged record's key is destroyed.
    read = client.get(f"/participants/{ours}", headers=lima)
    assert read.status_code == 200
    assert read.json()["id"] == theirs
    assert sorted(read.json()["offices"]) == ["iquitos", "lima"]
    key = training.db["data_keys"].find_one({"subject": f"participant:{ours}"})
    assert key["wrapped"] is None
    assert training.db["participants"].find_one({"_id": ours})["pii"] == {}
    # The certificate moved with the attendance: it verifies and prints for the person kept.
    verified = client.get(f"/certificates/verify/{issued['verification_code']}").json()
    assert (verified["valid"], verified["status"]) == (True, "emitido")
    pdf = client.get(f"/sessions/{lima_session}/certificates/{ours}/pdf", headers=lima)
    assert pdf.status_code == 200
    assert issued["verification_code"].encode() in pdf.content
    # Registering the person again in lima finds the person kept, with no notice.
    again = training.register(lima, document_number="42424242").json()
    assert again == {"id": theirs, "created": False, "notice": None}
    assert iquitos_session

    types = [e.type for e in training.events()]
    assert "training.attendance_moved" in types
    assert "training.participant_merged" in types
    assert types.count("training.participant_duplicate_resolved") == 1
    moved = [e for e in training.events(lima_session) if e.type == "training.attendance_moved"]
    assert moved[0].data["from_participant_id"] == ours
    assert moved[0].data["to_participant_id"] == theirs


def test_a_coordinator_confirms_two_people_and_the_notice_stops(training: Any) -> None:
    iquitos, lima = training.trainer("iquitos"), training.trainer("lima")
    coordinator = training.auth(Role.COORDINATOR)
    shared = "familia.rios@example.pe"
    theirs = training.register(iquitos, office="iquitos", email=shared).json()["id"]
    ours = training.register(lima, given_names="Luis", email=shared).json()
    assert ours["notice"] == DUPLICATE_NOTICE
    [pair] = training.client.get("/participant-duplicates", headers=coordinator).json()["items"]
    distinct = training.client.post(
        f"/participant-duplicates/{pair['id']}/distinct", headers=coordinator
    )
    assert distinct.status_code == 200
    assert distinct.json()["status"] == "distinct"
    assert training.client.get("/participant-duplicates", headers=coordinator).json()["total"] == 0
    later = training.client.get(
        "/participant-duplicates", params={"status": "distinct"}, headers=coordinator
    ).json()
    assert [d["id"] for d in later["items"]] == [pair["id"]]
    again = training.register(lima, email=shared).json()
    assert again == {"id": ours["id"], "created": False, "notice": None}
    assert theirs != ours["id"]
    listed = json.dumps(later)
    assert shared not in listed  # the coordinator's list holds no personal data


def test_an_attendance_sheet_never_reaches_another_offices_person(training: Any) -> None:
    iquitos, lima = training.trainer("iquitos"), training.trainer("lima")
    theirs = training.register(iquitos, office="iquitos", document_number="43434343").json()["id"]
    sid = training.attended(lima, "lima")
    sheet = "nombres,apellidos,numero_documento,sexo,horas\nRosa,Huamán,43434343,Mujer,10\n"
    report = training.client.post(
        f"/sessions/{sid}/attendance/import",
        files={"file": ("asistencia.csv", sheet.encode(), "text/csv")},
        headers=lima,
    ).json()
    assert (report["participants_created"], report["participants_possible_duplicates"]) == (1, 1)
    assert theirs not in json.dumps(report)
    [attended] = training.client.get(f"/sessions/{sid}/attendance", headers=lima).json()["items"]
    assert attended["participant_id"] != theirs
    assert training.db["participants"].find_one({"_id": theirs})["offices"] == ["iquitos"]
