"""A keyed POST re-run after its claim's lease (a crash) writes and announces nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ruta_shared.testing.claims import crashed

pytestmark = pytest.mark.integration


def test_a_session_rerun_after_a_crash_schedules_it_once(
    training: Any, new_session_body: Callable[..., dict[str, Any]]
) -> None:
    trainer = training.auth()
    headers = {**trainer, "Idempotency-Key": "sesion-tras-caida-0001"}
    first = training.client.post("/sessions", json=new_session_body(), headers=headers)
    assert first.status_code == 201, first.text
    claims = training.db.idempotency
    claims.update_one(*crashed(list(claims.find({})), "sesion-tras-caida-0001"))

    retry = training.client.post("/sessions", json=new_session_body(), headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") is None  # it ran again, not replayed
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert training.client.get("/sessions", headers=trainer).json()["total"] == 1
    scheduled = [
        e for e in training.events(first.json()["id"]) if e.type == "training.session_scheduled"
    ]
    assert len(scheduled) == 1


def crash(training: Any, key: str) -> None:
    """Leave the key's claim as a crashed first attempt would (a retry now re-runs)."""
    claims = training.db.idempotency
    claims.update_one(*crashed(list(claims.find({})), key))


def test_a_registration_rerun_after_a_crash_registers_the_person_once(training: Any) -> None:
    headers = {**training.auth(), "Idempotency-Key": "participante-tras-caida-0001"}
    first = training.register(headers, document_type="dni", document_number="45678912")
    assert first.status_code == 201, first.text
    crash(training, "participante-tras-caida-0001")

    retry = training.register(headers, document_type="dni", document_number="45678912")
    assert retry.headers.get("Idempotent-Replayed") is None  # it ran again, not replayed
    assert retry.status_code == 201, retry.text  # its own first attempt, not a known person
    assert retry.json() == first.json()
    assert training.db.participants.count_documents({}) == 1


def test_an_import_rerun_after_a_crash_records_and_reports_once(
    training: Any, new_session_body: Callable[..., dict[str, Any]]
) -> None:
    trainer = training.auth()
    sid = training.client.post("/sessions", json=new_session_body(), headers=trainer).json()["id"]
    content = "\r\n".join(
        [
            "nombres;apellidos;dni;correo;sexo;publico;horas",
            "Rosa;Huamán;01234567;;Femenino;car_staff;10",
            "Juan;Pérez;;juan@example.pe;M;docentes;4,5",
        ]
    ).encode("cp1252")
    headers = {**trainer, "Idempotency-Key": "importacion-tras-caida-0001"}

    def upload() -> Any:
        files = {"file": ("asistencia.csv", content, "text/csv")}
        url = f"/sessions/{sid}/attendance/import"
        return training.client.post(url, files=files, headers=headers)

    first = upload()
    assert first.status_code == 200, first.text
    assert first.json()["rows_imported"] == 2
    crash(training, "importacion-tras-caida-0001")

    retry = upload()
    assert retry.headers.get("Idempotent-Replayed") is None  # it ran again, not replayed
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()  # the first attempt's report, not "already recorded"
    assert training.db.imports.count_documents({"session_id": sid}) == 1
    assert training.db.participants.count_documents({}) == 2
    recorded = [e for e in training.events(sid) if e.type == "training.attendance_recorded"]
    assert len(recorded) == 2
