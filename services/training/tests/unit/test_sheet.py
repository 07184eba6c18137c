"""Reading attendance sheets: headers, labels, row numbers and errors that never echo values."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from ruta_training.imports.sheet import SheetError, parse_sheet


def parse(text: str, hours: float = 10) -> object:
    return parse_sheet(
        "hoja.csv", text.encode(), pedagogic_hours=hours, office="lima", max_rows=100
    )


def test_spanish_headers_and_labels_are_understood() -> None:
    sheet = parse(
        "Nombres;Apellidos;N° Documento;Correo electrónico;Sexo;Institución;Cargo;Región;Público\n"
        "Ana;Quispe;01234567;ana@example.pe;mujer;Salud;Docente;Loreto;Docentes\n"
    )
    [row] = sheet.rows  # type: ignore[attr-defined]
    assert row.row == 2
    assert row.person.sex == "female"
    assert row.person.document_type == "dni"
    assert row.person.institution_kind == "health"
    assert row.person.role == "teacher"
    assert row.person.region == "16"
    assert row.person.audience == "teachers"


def test_every_error_names_its_row_and_column_and_never_the_value() -> None:
    sheet = parse(
        "nombres,apellidos,dni,correo,sexo,horas,pre_test,post_test\n"
        "Zoraida,,12345678,zoraida-sin-arroba,otro,12,50,\n"
        "\n"
        "Luis,Rojas,87654321,,M,9.5,40,60\n"
    )
    errors = [(e.row, e.column) for e in sheet.errors]  # type: ignore[attr-defined]
    assert errors == [(2, "apellidos"), (2, "correo"), (2, "sexo"), (2, "horas")]
    assert all("Zoraida" not in e.message and "arroba" not in e.message for e in sheet.errors)  # type: ignore[attr-defined]
    [row] = sheet.rows  # type: ignore[attr-defined]
    assert (row.row, row.hours, row.pre_score, row.post_score) == (4, 9.5, 40, 60)
    assert sheet.rows_total == 2  # type: ignore[attr-defined]


def test_xlsx_numbers_keep_a_dni_whole() -> None:
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(["Nombres", "Apellidos", "DNI", "Sexo"])
    ws.append(["Ana", "Quispe", 1234567, "F"])  # a DNI starting with 0, stored as a number
    buffer = io.BytesIO()
    workbook.save(buffer)
    sheet = parse_sheet(
        "hoja.xlsx", buffer.getvalue(), pedagogic_hours=4, office="lima", max_rows=10
    )
    assert [r.person.document_number for r in sheet.rows] == ["01234567"]


def test_missing_columns_and_too_many_rows_refuse_the_whole_file() -> None:
    with pytest.raises(SheetError, match="apellidos"):
        parse("nombres,dni\nAna,12345678\n")
    with pytest.raises(SheetError, match="más de 1 filas"):
        parse_sheet(
            "h.csv",
            b"nombres,apellidos,dni\nA,B,12345678\nC,D,87654321\n",
            pedagogic_hours=1,
            office="lima",
            max_rows=1,
        )
