"""Data subjects' rights over participants (issue 14, finding 8): rectification with If-Match,
erasure by crypto-shredding (figures stay, certificates verify without a holder) and the
access export for a coordinator."""

from __future__ import annotations

from typing import Any

import pytest
from ruta_shared.security.crypto import ERASED_DETAIL
from ruta_shared.security.principal import Role
from ruta_training.participants.models import DUPLICATE_NOTICE

pytestmark = pytest.mark.integration


def hold(training: Any, sid: str, headers: dict[str, str]) -> None:
    version = training.client.get(f"/sessions/{sid}", headers=headers).headers["ETag"]
    held = training.client.post(
        f"/sessions/{sid}/hold", json={}, headers={**headers, "If-Match": version}
    )
    assert held.status_code == 200, held.text


def test_rectification_names_the_fields_never_the_values(training: Any) -> None:
    client, lima = training.client, training.trainer("lima")
    pid = training.register(
        lima, given_names="Jhon", email="jhon.old@example.pe", sex="male"
    ).json()["id"]
    read = client.get(f"/participants/{pid}", headers=lima)
    etag = read.headers["ETag"]
    url = f"/participants/{pid}"
    change = {"given_names": "John", "email": "john.new@example.pe", "phone": "+51 999 888 777"}

    assert client.patch(url, json=change, headers=lima).status_code == 428
    stale = client.patch(url, json=change, headers={**lima, "If-Match": '"99"'})
    assert stale.status_code == 412
    fixed = client.patch(url, json={**change, "sex": "male"}, headers={**lima, "If-Match": etag})
    assert fixed.status_code == 200, fixed.text
    assert fixed.headers["Cache-Control"] == "no-store"
    assert fixed.headers["ETag"] != etag
    body = fixed.json()
    assert body["fields_changed"] == ["email", "given_names", "phone"]  # sex did not change
    assert (body["given_names"], body["email"], body["notice"]) == ("John", change["email"], None)
    again = client.get(url, headers=lima).json()
    assert (again["given_names"], again["phone"]) == ("John", "+51 999 888 777")

    # The person is found by the new email, no longer by the old one.
    assert training.register(lima, email="JOHN.NEW@example.pe").json()["id"] == pid
    assert training.register(lima, email="jhon.old@example.pe").json()["created"] is True

    events = [e for e in training.events(pid) if e.type == "training.participant_rectified"]
    assert [e.data["fields"] for e in events] == [["email", "given_names", "phone"]]
    raw = events[0].model_dump_json()
    assert "John" not in raw
    assert "new@example" not in raw
    assert "999" not in raw

    current = {**lima, "If-Match": fixed.headers["ETag"]}
    for wrong, field in (
        ({"given_names": None}, "given_names"),
        ({"email": None}, "document_number"),  # nothing left to find the person by
        ({}, "body"),
        ({"email": "no-es-un-correo"}, "email"),
    ):
        refused = client.patch(url, json=wrong, headers=current)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"].split(".")[-1] == field
        assert "no-es-un-correo" not in refused.text
    # Another lima participant's email is refused; nothing was half written.
    other = training.register(lima, given_names="Eva", email="eva@example.pe").json()["id"]
    taken = client.patch(url, json={"email": "eva@example.pe"}, headers=current)
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "email"
    assert training.register(lima, email="eva@example.pe").json()["id"] == other
    # A trainer of another office does not find the participant at all.
    elsewhere = {**training.trainer("cusco"), "If-Match": fixed.headers["ETag"]}
    assert client.patch(url, json=change, headers=elsewhere).status_code == 404


def test_a_rectified_email_of_another_office_is_a_suspected_duplicate(training: Any) -> None:
    lima, iquitos = training.trainer("lima"), training.trainer("iquitos")
    training.register(iquitos, office="iquitos", email="kari@example.pe")
    pid = training.register(lima, email="kari.typo@example.pe").json()["id"]
    etag = training.client.get(f"/participants/{pid}", headers=lima).headers["ETag"]
    fixed = training.client.patch(
        f"/participants/{pid}",
        json={"email": "kari@example.pe"},
        headers={**lima, "If-Match": etag},
    )
    assert fixed.status_code == 200
    assert fixed.json()["notice"] == DUPLICATE_NOTICE
    assert training.db["participant_duplicates"].count_documents({"status": "pending"}) == 1


def test_erasure_shreds_the_person_and_keeps_the_figures(training: Any) -> None:
    client, lima = training.client, training.trainer("lima")
    coordinator = training.auth(Role.COORDINATOR)
    pid = training.register(lima, document_number="47474747", sex="female").json()["id"]
    sid = training.attended(lima, "lima", pid)
    hold(training, sid, lima)
    issued = client.post(
        f"/sessions/{sid}/certificates", json={"participant_id": pid}, headers=lima
    ).json()
    before = client.get("/reach", headers=lima).json()

    assert client.post(f"/participants/{pid}/erasure", headers=lima).status_code == 403
    erased = client.post(f"/participants/{pid}/erasure", headers=coordinator)
    assert erased.status_code == 200, erased.text
    repeat = client.post(f"/participants/{pid}/erasure", headers=coordinator)
    assert repeat.json() == erased.json()

    for path in (f"/participants/{pid}", f"/sessions/{sid}/certificates/{pid}/pdf"):
        gone = client.get(path, headers=lima)
        assert gone.status_code == 410, path
        assert gone.json()["detail"] == ERASED_DETAIL
    assert client.get(f"/participants/{pid}/export", headers=coordinator).status_code == 410
    verified = client.get(f"/certificates/verify/{issued['verification_code']}").json()
    assert verified == {
        "valid": True,
        "status": "emitido, titular eliminado",
        "holder_erased": True,
        "course": "Taller de identificación de víctimas de trata",
        "date": "2017-05-04",
    }
    assert client.get("/reach", headers=lima).json() == before
    listed = client.get("/participants", headers=lima).json()["items"]
    assert [(p["id"], p["erased"], p["sex"]) for p in listed] == [(pid, True, "female")]
    assert client.get(f"/sessions/{sid}/attendance", headers=lima).json()["total"] == 1
    again = client.post(f"/sessions/{sid}/attendance", json={"participant_id": pid}, headers=lima)
    assert again.status_code == 410

    stored = training.db["participants"].find_one({"_id": pid})
    assert (stored["pii"], stored["lookup"]) == ({}, [])
    assert training.db["data_keys"].find_one({"subject": f"participant:{pid}"})["wrapped"] is None
    assert training.db["participant_keys"].count_documents({"participant_id": pid}) == 0
    # The person is not found again: registering the document makes a new participant.
    anew = training.register(lima, document_number="47474747").json()
    assert anew["created"] is True
    assert anew["id"] != pid
    events = [e for e in training.events(pid) if e.type == "training.participant_erased"]
    assert len(events) == 1


def test_the_access_export_holds_everything_and_is_recorded(training: Any) -> None:
    client, lima = training.client, training.trainer("lima")
    coordinator = training.auth(Role.COORDINATOR)
    pid = training.register(
        lima, given_names="Nora", document_number="48484848", phone="+51 984 000 111"
    ).json()["id"]
    sid = training.attended(lima, "lima", pid)
    score = client.post(
        f"/sessions/{sid}/assessments",
        json={"participant_id": pid, "pre_score": 40, "post_score": 85},
        headers=lima,
    )
    assert score.status_code == 201
    hold(training, sid, lima)
    code = client.post(
        f"/sessions/{sid}/certificates", json={"participant_id": pid}, headers=lima
    ).json()["verification_code"]
    assert client.get(f"/participants/{pid}", headers=lima).status_code == 200

    assert client.get(f"/participants/{pid}/export", headers=lima).status_code == 403
    exported = client.get(f"/participants/{pid}/export", headers=coordinator)
    assert exported.status_code == 200, exported.text
    assert exported.headers["Cache-Control"] == "no-store"
    data = exported.json()
    person = data["participant"]
    assert (person["given_names"], person["document_number"]) == ("Nora", "48484848")
    assert person["phone"] == "+51 984 000 111"
    [attended] = data["attendance"]
    assert attended["session_id"] == sid
    assert attended["title"] == "Taller de identificación de víctimas de trata"
    assert (attended["pre_score"], attended["post_score"]) == (40, 85)
    assert attended["certificate"]["verification_code"] == code
    purposes = [r["purpose"] for r in data["reads"]]
    assert purposes.count("data_subject_request") == 1
    assert "training" in purposes  # the trainer's read before
    assert "user_id" not in exported.text
    record = training.db["access_log"].find_one(
        {"subject_id": pid, "purpose": "data_subject_request"}
    )
    assert record["role"] == "coordinator"
    assert "certificate_code" in record["fields"]
    assert client.get("/participants/nobody/export", headers=coordinator).status_code == 404


def test_corrected_attributes_reach_the_attendance_already_recorded(training: Any) -> None:
    client, lima = training.client, training.trainer("lima")
    pid = training.register(lima, document_number="49494949", sex="male").json()["id"]
    sid = training.attended(lima, "lima", pid)
    assert client.get("/reach", headers=lima).json()["by_sex"] == {"male": 1}
    etag = client.get(f"/participants/{pid}", headers=lima).headers["ETag"]
    fixed = client.patch(
        f"/participants/{pid}",
        json={"sex": "female", "audience": "car_staff"},
        headers={**lima, "If-Match": etag},
    )
    assert fixed.json()["fields_changed"] == ["audience", "sex"]
    reach = client.get("/reach", headers=lima).json()
    assert (reach["by_sex"], reach["by_audience"]) == ({"female": 1}, {"car_staff": 1})
    [attended] = client.get(f"/sessions/{sid}/attendance", headers=lima).json()["items"]
    assert (attended["sex"], attended["hours_attended"]) == ("female", 10)
    recorded = [e for e in training.events(sid) if e.type == "training.attendance_recorded"]
    assert [e.data["sex"] for e in recorded] == ["male", "female"]
