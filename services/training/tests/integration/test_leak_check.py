"""Canary personal data planted through the training API leaks nowhere: Kafka, logs, metrics,
error responses, URLs; and it is encrypted at rest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from ruta_shared.security.principal import Role
from ruta_shared.testing.leak_check import LeakChecker
from ruta_shared.topics import TRAINING_EVENTS

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]


def test_the_leak_check_passes_on_training(training: Any, new_session_body: Body) -> None:
    client, trainer = training.client, training.auth()
    leaks = LeakChecker()
    registered, imported = leaks.new_person(), leaks.new_person()
    email = f"{registered.family_names.split()[0].lower()}@example.pe"
    leaks.add_needle("email", email)

    def check(response: Any) -> Any:
        leaks.record_error_response(
            f"{response.request.method} {response.request.url.path}",
            response.status_code,
            response.content,
        )
        return response

    with leaks.capture_logs():
        sid = client.post("/sessions", json=new_session_body(), headers=trainer).json()["id"]
        person = {
            "office": "lima",
            "given_names": registered.given_names,
            "family_names": registered.family_names,
            "document_number": registered.document_number,
            "email": email,
            "phone": registered.phone,
            "sex": "female",
        }
        created = check(client.post("/participants", json=person, headers=trainer))
        assert created.status_code == 201
        pid = created.json()["id"]
        # Refused requests carrying personal data must not echo it back.
        refused = check(
            client.post(
                "/participants", json={**person, "email": registered.notes}, headers=trainer
            )
        )
        assert refused.status_code == 422
        unknown = check(
            client.post("/participants", json={**person, "office": "nowhere"}, headers=trainer)
        )
        assert unknown.status_code == 422
        sheet = (
            "nombres,apellidos,numero_documento,telefono,sexo,horas\n"
            f"{imported.given_names},{imported.family_names},{imported.document_number},"
            f"{imported.phone},Hombre,10\n"
            f"{registered.given_names},,{registered.document_number},,Mujer,99\n"
        ).encode()
        report = check(
            client.post(
                f"/sessions/{sid}/attendance/import",
                files={"file": ("asistencia.csv", sheet, "text/csv")},
                headers=trainer,
            )
        )
        assert report.status_code == 200
        assert report.json()["rows_imported"] == 1
        assert report.json()["rows_with_errors"] == 1
        check(
            client.post(
                f"/sessions/{sid}/attendance", json={"participant_id": pid}, headers=trainer
            )
        )
        client.post(f"/sessions/{sid}/hold", json={}, headers={**trainer, "If-Match": '"3"'})
        assert (
            check(
                client.post(
                    f"/sessions/{sid}/certificates", json={"participant_id": pid}, headers=trainer
                )
            ).status_code
            == 201
        )
        read = check(client.get(f"/participants/{pid}", headers=trainer))
        assert read.status_code == 200
        assert read.json()["given_names"] == registered.given_names  # the owner reads it back
        assert read.headers["Cache-Control"] == "no-store"
        pdf = check(client.get(f"/sessions/{sid}/certificates/{pid}/pdf", headers=trainer))
        assert pdf.status_code == 200
        # A coordinator may count but never read personal data.
        denied = check(client.get(f"/participants/{pid}", headers=training.auth(Role.COORDINATOR)))
        assert denied.status_code == 403
        listed = client.get("/participants", headers=trainer).json()
        assert listed["total"] == 2
        training.drained()

    leaks.scan_metrics(client.get("/metrics").text)
    asyncio.run(leaks.scan_kafka(training.kafka_bootstrap, topics=[TRAINING_EVENTS]))
    # POST responses (stored for Idempotency-Key replays) and listings carry no personal data.
    leaks.scan_text("responses", "POST /participants", created.text)
    leaks.scan_text("responses", "import report", report.text)
    leaks.scan_text("responses", "GET /participants", json.dumps(listed))
    # At rest: nothing in the service's database is readable without the keys.
    for name in training.db.list_collection_names():
        for document in training.db[name].find():
            leaks.scan_text("database", name, json.dumps(document, default=str))
    leaks.assert_clean()
    assert training.db["access_log"].count_documents({"subject_id": pid}) == 2  # GET and PDF
    accessed = [e for e in training.events() if e.type == "pii.accessed"]
    assert {e.data["subject_id"] for e in accessed} >= {pid}


def test_duplicates_rectification_export_and_erasure_leak_nothing(training: Any) -> None:
    client = training.client
    lima, iquitos = training.trainer("lima"), training.trainer("iquitos")
    coordinator = training.auth(Role.COORDINATOR)
    leaks = LeakChecker()
    person, corrected = leaks.new_person(), leaks.new_person()
    email = f"{person.family_names.split()[0].lower()}.{person.document_number}@example.pe"
    new_email = f"{corrected.family_names.split()[0].lower()}.x@example.pe"
    leaks.add_needle("email", email)
    leaks.add_needle("email", new_email)
    names = {"given_names": person.given_names, "family_names": person.family_names}

    with leaks.capture_logs():
        theirs = training.register(iquitos, office="iquitos", email=email, **names).json()["id"]
        ours = training.register(lima, email=email, document_number=person.document_number, **names)
        assert ours.status_code == 201
        pid = ours.json()["id"]
        etag = client.get(f"/participants/{pid}", headers=lima).headers["ETag"]
        change = {
            "given_names": corrected.given_names,
            "email": new_email,
            "phone": corrected.phone,
        }
        refused = client.patch(
            f"/participants/{pid}",
            json={**change, "email": corrected.notes},
            headers={**lima, "If-Match": etag},
        )
        leaks.record_error_response("PATCH /participants", refused.status_code, refused.content)
        assert refused.status_code == 422
        fixed = client.patch(
            f"/participants/{pid}", json=change, headers={**lima, "If-Match": etag}
        )
        assert fixed.status_code == 200
        exported = client.get(f"/participants/{pid}/export", headers=coordinator)
        assert exported.json()["participant"]["given_names"] == corrected.given_names
        listed = client.get("/participant-duplicates", headers=coordinator)
        assert listed.json()["total"] == 1
        erased = client.post(f"/participants/{theirs}/erasure", headers=coordinator)
        assert erased.status_code == 200
        gone = client.get(f"/participants/{theirs}", headers=iquitos)
        leaks.record_error_response("GET erased participant", gone.status_code, gone.content)
        assert gone.status_code == 410
        training.drained()

    leaks.scan_metrics(client.get("/metrics").text)
    asyncio.run(leaks.scan_kafka(training.kafka_bootstrap, topics=[TRAINING_EVENTS]))
    leaks.scan_text("responses", "POST /participants", ours.text)
    leaks.scan_text("responses", "GET /participant-duplicates", listed.text)
    for name in training.db.list_collection_names():
        for document in training.db[name].find():
            leaks.scan_text("database", name, json.dumps(document, default=str))
    leaks.assert_clean()
