"""Certificates: issued for enough hours, printed as a PDF, verified publicly (and nothing more)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from ruta_shared.security.install import public_routes

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]


def test_certificate_issue_print_and_public_verification(
    training: Any, new_session_body: Body
) -> None:
    client, trainer = training.client, training.auth()
    course = new_session_body(format="course", title="Curso de atención a víctimas de trata")
    sid = client.post("/sessions", json=course, headers=trainer).json()["id"]
    people = {}
    for name, document, hours in (("Ana", "45454545", 10), ("Beto", "46464646", 5)):
        people[name] = client.post(
            "/participants",
            json={
                "office": "lima",
                "given_names": name,
                "family_names": "Soto",
                "document_number": document,
            },
            headers=trainer,
        ).json()["id"]
        client.post(
            f"/sessions/{sid}/attendance",
            json={"participant_id": people[name], "hours_attended": hours},
            headers=trainer,
        )
    early = client.post(
        f"/sessions/{sid}/certificates", json={"participant_id": people["Ana"]}, headers=trainer
    )
    assert early.status_code == 409  # only once the session was held
    client.post(
        f"/sessions/{sid}/hold",
        json={"held_on": "2017-05-04"},
        headers={**trainer, "If-Match": f'"{3}"'},
    )

    issued = client.post(
        f"/sessions/{sid}/certificates", json={"participant_id": people["Ana"]}, headers=trainer
    )
    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    code = certificate["verification_code"]
    assert len(code.replace("-", "")) == 32  # 160 random bits
    assert certificate["verification_url"].endswith(code)
    assert certificate["hours"] == 10
    short = client.post(
        f"/sessions/{sid}/certificates", json={"participant_id": people["Beto"]}, headers=trainer
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "participant_id"
    repeat = client.post(
        f"/sessions/{sid}/certificates", json={"participant_id": people["Ana"]}, headers=trainer
    )
    assert repeat.status_code == 200
    assert repeat.json()["verification_code"] == code
    assert repeat.json()["certificate_id"] == certificate["certificate_id"]

    pdf = client.get(f"/sessions/{sid}/certificates/{people['Ana']}/pdf", headers=trainer)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert code.encode() in pdf.content
    assert b"CERTIFICADO" in pdf.content
    assert b"Ana Soto" in pdf.content
    assert training.db["access_log"].count_documents({"subject_id": people["Ana"]}) == 1

    # Anyone may check a code, typed loosely; they learn validity, course and date only.
    for typed in (code, code.replace("-", "").lower(), f" {code.lower()} "):
        verified = client.get(f"/certificates/verify/{typed.strip()}")
        assert verified.status_code == 200
        assert verified.json() == {
            "valid": True,
            "status": "emitido",
            "holder_erased": False,
            "course": "Curso de atención a víctimas de trata",
            "date": "2017-05-04",
        }
    forged = "-".join(secrets.token_hex(2).upper() for _ in range(8))
    for guess in (forged, "ABCD", "A" * 32, "%20"):
        answer = client.get(f"/certificates/verify/{guess}")
        assert answer.status_code == 200
        assert answer.json() == {
            "valid": False,
            "status": None,
            "holder_erased": False,
            "course": None,
            "date": None,
        }
    assert [route.path for route in public_routes(training.app)] == ["/certificates/verify/{code}"]

    issued_events = [e for e in training.events(sid) if e.type == "training.certificate_issued"]
    assert len(issued_events) == 1
    assert issued_events[0].data["participant_id"] == people["Ana"]
    assert issued_events[0].data["certificate_id"] == certificate["certificate_id"]
    assert code not in issued_events[0].model_dump_json()
