"""Bulk attendance import: row errors by number, valid rows imported, re-upload imports nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import Workbook
from ruta_shared.security.principal import Role

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]

HEADER = [
    "Nombres",
    "Apellidos",
    "Tipo de documento",
    "Número de documento",
    "Correo",
    "Teléfono",
    "Sexo",
    "Institución",
    "Cargo",
    "Región",
    "Horas",
    "Pre test",
    "Post test",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Each kind of bad row: the cell to spoil, the value, and the column the error must name.
BAD_KINDS: list[tuple[str, Any, str]] = [
    ("Nombres", None, "Nombres"),
    ("Correo", "no-es-un-correo", "Correo"),
    ("Sexo", "X", "Sexo"),
    ("Región", "Atlántida", "Región"),
    ("Horas", 11, "Horas"),  # the session has 10 pedagogic hours
    ("Horas", "diez", "Horas"),
    ("Número de documento", "1234567A", "Número de documento"),  # a DNI has 8 digits
    ("Número de documento", None, "Número de documento"),  # and no email either
    ("Pre test", 120, "Pre test"),
    ("Institución", "Banco", "Institución"),
]


def good_row(i: int) -> dict[str, Any]:
    return {
        "Nombres": f"Nombre{i}",
        "Apellidos": f"Apellido{i} Pérez",
        "Tipo de documento": "DNI",
        "Número de documento": 10_000_000 + i,  # a number cell, as Excel stores DNIs
        "Correo": f"persona{i}@example.pe" if i % 3 == 0 else None,
        "Teléfono": f"9{i:08d}" if i % 4 == 0 else None,
        "Sexo": ("Mujer", "hombre", "No informado")[i % 3],
        "Institución": ("Policía Nacional del Perú", "education", "Salud")[i % 3],
        "Cargo": ("Efectivo policial", "teacher", None)[i % 3],
        "Región": ("15", "Loreto", "cusco")[i % 3],
        "Horas": 8 if i % 10 == 0 else None,
        "Pre test": 40 + i % 30 if i % 5 == 0 else None,
        "Post test": 70 + i % 30 if i % 5 == 0 else None,
    }


def build_sheet(rows: int, bad: dict[int, tuple[str, Any, str]], blank_after: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for i in range(rows):
        row = good_row(i)
        if i in bad:
            column, value, _ = bad[i]
            row[column] = value
            if column == "Número de documento" and value is None:
                row["Correo"] = None
        sheet.append([row[name] for name in HEADER])
        if i == blank_after:
            sheet.append([None] * len(HEADER))  # blank rows are skipped, numbering is kept
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_500_row_sheet_with_20_bad_rows_imports_exactly_once(
    training: Any, new_session_body: Body
) -> None:
    client, trainer = training.client, training.auth()
    sid = client.post("/sessions", json=new_session_body(), headers=trainer).json()["id"]
    bad_indices = list(range(7, 500, 25))  # 20 rows spread over the sheet
    assert len(bad_indices) == 20
    bad = {index: BAD_KINDS[n % len(BAD_KINDS)] for n, index in enumerate(bad_indices)}
    blank_after = 250
    content = build_sheet(500, bad, blank_after)

    def sheet_row(index: int) -> int:  # the header is row 1; one blank row after index 250
        return index + 2 + (1 if index > blank_after else 0)

    expected_errors = sorted((sheet_row(i), kind[2]) for i, kind in bad.items())
    good = [i for i in range(500) if i not in bad]
    scored = [i for i in good if i % 5 == 0]

    def upload() -> dict[str, Any]:
        response = client.post(
            f"/sessions/{sid}/attendance/import",
            files={"file": ("asistencia.xlsx", content, XLSX)},
            headers=trainer,
        )
        assert response.status_code == 200, response.text
        return response.json()

    first = upload()
    assert first["rows_total"] == 500
    assert first["rows_imported"] == 480
    assert first["rows_already_recorded"] == 0
    assert first["rows_with_errors"] == 20
    assert first["participants_created"] == 480
    assert first["assessments_recorded"] == len(scored)
    assert first["previous_import_id"] is None
    assert sorted((e["row"], e["column"]) for e in first["errors"]) == expected_errors
    assert all(e["message"] for e in first["errors"])
    assert first["duplicates"] == []

    again = upload()
    assert again["rows_total"] == 500
    assert again["rows_imported"] == 0
    assert again["rows_updated"] == 0
    assert again["rows_already_recorded"] == 480
    assert again["participants_created"] == 0
    assert again["assessments_recorded"] == 0
    assert again["previous_import_id"] == first["import_id"]
    assert sorted((e["row"], e["column"]) for e in again["errors"]) == expected_errors

    session = client.get(f"/sessions/{sid}", headers=trainer).json()
    assert session["attendance_count"] == 480
    assert session["assessment"]["count"] == len(scored)
    gains = [(70 + i % 30) - (40 + i % 30) for i in scored]
    assert session["assessment"]["average_gain"] == round(sum(gains) / len(gains), 2)
    attendance = client.get(
        f"/sessions/{sid}/attendance", params={"limit": 100}, headers=trainer
    ).json()
    assert attendance["total"] == 480
    reach = client.get("/reach", headers=trainer).json()
    assert reach["distinct_participants"] == 480
    assert reach["by_sex"] == {
        "female": sum(1 for i in good if i % 3 == 0),
        "male": sum(1 for i in good if i % 3 == 1),
        "unknown": sum(1 for i in good if i % 3 == 2),
    }

    events = training.events(sid)
    attended = [e for e in events if e.type == "training.attendance_recorded"]
    assert len(attended) == 480
    assert len({e.data["participant_id"] for e in attended}) == 480
    hours = {e.data["hours_attended"] for e in attended}
    assert hours == {8, 10}
    assert sum(1 for e in attended if e.data["hours_attended"] == 8) == sum(
        1 for i in good if i % 10 == 0
    )
    assert {e.data["region"] for e in attended} == {"15", "16", "08"}
    assert {e.data["institution_kind"] for e in attended} == {"police", "education", "health"}
    assessed = [e for e in events if e.type == "training.assessment_recorded"]
    assert len(assessed) == len(scored)
    sequences = [e.sequence for e in events]
    assert sequences == list(range(1, len(events) + 1))  # one ordered stream per session


def test_csv_with_semicolons_labels_and_repeated_people(
    training: Any, new_session_body: Body
) -> None:
    client, trainer = training.client, training.auth()
    sid = client.post("/sessions", json=new_session_body(), headers=trainer).json()["id"]
    lines = [
        "nombres;apellidos;dni;correo;sexo;publico;horas",
        "Rosa;Huamán;01234567;;Femenino;Personal de Centros de Acogida Residencial (CAR);10",
        "Rosa;Huamán;0123-4567;;F;car_staff;10",  # the same person again
        "Juan;Pérez;;juan@example.pe;M;docentes;4,5",
        ";Sin nombre;87654321;;M;;",
        "Carla;Ríos;1234567;;Mujer;;",  # Excel dropped the leading zero of 01234567
    ]
    content = "\r\n".join(lines).encode("cp1252")
    key = {**trainer, "Idempotency-Key": "import-csv-0001"}
    response = client.post(
        f"/sessions/{sid}/attendance/import",
        files={"file": ("asistencia.csv", content, "text/csv")},
        headers=key,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rows_total"] == 5
    assert report["rows_imported"] == 2
    assert report["rows_duplicated"] == 2
    assert sorted((d["row"], d["same_as_row"]) for d in report["duplicates"]) == [(3, 2), (6, 2)]
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(5, "nombres")]
    assert report["participants_created"] == 2
    replay = client.post(
        f"/sessions/{sid}/attendance/import",
        files={"file": ("asistencia.csv", content, "text/csv")},
        headers=key,
    )
    assert replay.json() == report
    assert replay.headers["Idempotent-Replayed"] == "true"
    reach = client.get("/reach", headers=trainer).json()
    assert reach["distinct_participants"] == 2
    assert reach["by_audience"] == {"car_staff": 1, "teachers": 1}


def test_a_sheet_that_cannot_be_read_is_refused_naming_the_file(
    training: Any, new_session_body: Body
) -> None:
    client, trainer = training.client, training.auth()
    sid = client.post("/sessions", json=new_session_body(), headers=trainer).json()["id"]
    for name, content in (
        ("hoja.xlsx", b"PK\x03\x04 not really a workbook"),
        ("hoja.csv", b"columna_a;columna_b\n1;2\n"),
        ("hoja.csv", b"\n\n"),
    ):
        response = client.post(
            f"/sessions/{sid}/attendance/import",
            files={"file": (name, content, "application/octet-stream")},
            headers=trainer,
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "file"
    # Reading a sheet of personal data needs the personal-data permission.
    coordinator = training.auth(Role.COORDINATOR)
    denied = client.post(
        f"/sessions/{sid}/attendance/import",
        files={"file": ("hoja.csv", b"nombres;apellidos;dni\nA;B;12345678\n", "text/csv")},
        headers=coordinator,
    )
    assert denied.status_code == 403
