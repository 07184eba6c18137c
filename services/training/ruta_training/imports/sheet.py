"""Reads an attendance sheet (CSV or XLSX) into validated rows and row-level errors.

Pure: bytes in, rows and errors out. Headers are Spanish, matched without accents or
case; codes may be written as the code or as their Spanish label. Error messages name
the row and the column as written in the sheet, never the cell's value (it may be
personal data).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from openpyxl import load_workbook
from pydantic import ValidationError
from ruta_shared.reference import (
    AUDIENCES,
    REGIONS,
    TRAINEE_INSTITUTION_KINDS,
    TRAINEE_ROLES,
)
from ruta_shared.security.crypto import normalise_document_number

from ruta_training.imports.models import DuplicateRow, RowError
from ruta_training.participants.models import DOCUMENT_TYPES, ParticipantCreate


class SheetError(ValueError):
    """The file as a whole cannot be read (format, size, missing columns); Spanish message."""


def _plain(text: str) -> str:
    """Lower case, no accents, words joined by underscores."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "given_names": ("nombres", "nombre", "nombres_completos"),
    "family_names": ("apellidos", "apellido"),
    "document_type": ("tipo_documento", "tipo_de_documento", "tipo_doc"),
    "document_number": (
        "numero_documento",
        "numero_de_documento",
        "n_documento",
        "nro_documento",
        "num_documento",
        "documento",
        "dni",
    ),
    "email": ("correo", "correo_electronico", "email", "e_mail"),
    "phone": ("telefono", "celular", "movil"),
    "sex": ("sexo", "genero"),
    "institution_kind": ("institucion", "tipo_institucion", "tipo_de_institucion", "sector"),
    "role": ("cargo", "funcion", "rol"),
    "region": ("region", "departamento"),
    "audience": ("publico", "tipo_de_publico", "publico_objetivo"),
    "hours": ("horas", "horas_asistidas"),
    "pre_score": ("pre_test", "pretest", "prueba_de_entrada", "evaluacion_de_entrada"),
    "post_score": ("post_test", "posttest", "prueba_de_salida", "evaluacion_de_salida"),
}
_ALIASES: Final = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}

SEXES: Final = {
    "mujer": "female",
    "femenino": "female",
    "f": "female",
    "female": "female",
    "hombre": "male",
    "masculino": "male",
    "m": "male",
    "male": "male",
    "": "unknown",
    "no_informado": "unknown",
    "ni": "unknown",
    "n_i": "unknown",
    "unknown": "unknown",
}
DOCUMENT_TYPE_WORDS: Final = {
    **{_plain(code): code for code in DOCUMENT_TYPES},
    **{_plain(label): code for code, label in DOCUMENT_TYPES.items()},
    "pasaporte": "passport",
    "otro": "other",
}
EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DOCUMENT: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{3,19}$")
PHONE: Final = re.compile(r"^\+?[0-9 ()\-]{6,30}$")


def _code_lookup(labels: Mapping[str, str]) -> dict[str, str]:
    found = {_plain(code): code for code in labels}
    found.update({_plain(label): code for code, label in labels.items()})
    return found


INSTITUTIONS: Final = _code_lookup(TRAINEE_INSTITUTION_KINDS)
ROLES: Final = _code_lookup(TRAINEE_ROLES)
AUDIENCE_CODES: Final = _code_lookup(AUDIENCES)
REGION_CODES: Final = {**_code_lookup(REGIONS), **{str(int(code)): code for code in REGIONS}}


@dataclass(frozen=True)
class SheetRow:
    """One valid row: the person, and what they did at the session."""

    row: int
    person: ParticipantCreate
    hours: float | None
    pre_score: float | None
    post_score: float | None


@dataclass
class ParsedSheet:
    """Every non-empty data row, either valid or with its errors."""

    rows: list[SheetRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates: list[DuplicateRow] = field(default_factory=list)
    rows_total: int = 0

    @property
    def rows_with_errors(self) -> int:
        """How many rows had at least one error."""
        return len({error.row for error in self.errors})


def read_table(filename: str, content: bytes) -> Iterator[list[Any]]:
    """The sheet's rows as lists of cell values (first sheet of a workbook)."""
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            msg = "no se pudo leer el archivo XLSX: guárdelo de nuevo desde Excel o como CSV"
            raise SheetError(msg) from exc
        try:
            worksheet = workbook.worksheets[0]
            for values in worksheet.iter_rows(values_only=True):
                yield list(values)
        finally:
            workbook.close()
        return
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    yield from csv.reader(io.StringIO(text), delimiter=delimiter)


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    msg = "el archivo CSV no está en UTF-8 ni en Windows-1252"
    raise SheetError(msg)


def _cell(value: Any) -> str:
    """A cell as text: whole numbers without '.0' (Excel stores DNIs as numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_sheet(
    filename: str, content: bytes, *, pedagogic_hours: float, office: str, max_rows: int
) -> ParsedSheet:
    """Validate every row of an attendance sheet for a session of `pedagogic_hours`."""
    table = read_table(filename, content)
    header: list[str] | None = None
    for values in table:
        if any(_cell(v) for v in values):
            header = [_cell(v) for v in values]
            break
    if header is None:
        msg = "la hoja está vacía"
        raise SheetError(msg)
    columns = _map_columns(header)
    parsed = ParsedSheet()
    seen: dict[str, int] = {}
    for number, values in enumerate(table, start=2):
        cells = [_cell(v) for v in values]
        if not any(cells):
            continue
        parsed.rows_total += 1
        if parsed.rows_total > max_rows:
            msg = f"la hoja tiene más de {max_rows} filas: divídala en varias"
            raise SheetError(msg)
        raw = {
            name: (cells[index] if index < len(cells) else "")
            for name, (index, _) in columns.items()
        }
        labels = {name: label for name, (_, label) in columns.items()}
        row, errors = _parse_row(number, raw, labels, pedagogic_hours, office)
        if errors:
            parsed.errors.extend(errors)
            continue
        assert row is not None
        first = _first_seen(seen, row)
        if first is not None:
            parsed.duplicates.append(DuplicateRow(row=number, same_as_row=first))
        parsed.rows.append(row)
    return parsed


def _first_seen(seen: dict[str, int], row: SheetRow) -> int | None:
    """The earlier row naming the same person (by document number or email), if any."""
    keys = []
    if row.person.document_number:
        keys.append("doc:" + normalise_document_number(row.person.document_number))
    if row.person.email:
        keys.append("email:" + row.person.email.strip().lower())
    first = next((seen[k] for k in keys if k in seen), None)
    for key in keys:
        seen.setdefault(key, row.row)
    return first


def _map_columns(header: Sequence[str]) -> dict[str, tuple[int, str]]:
    columns: dict[str, tuple[int, str]] = {}
    for index, label in enumerate(header):
        name = _ALIASES.get(_plain(label))
        if name is not None and name not in columns:
            columns[name] = (index, label)
    missing = [
        spanish
        for name, spanish in (("given_names", "nombres"), ("family_names", "apellidos"))
        if name not in columns
    ]
    if "document_number" not in columns and "email" not in columns:
        missing.append("numero_documento o correo")
    if missing:
        msg = "faltan columnas en la cabecera: " + ", ".join(missing)
        raise SheetError(msg)
    return columns


def _parse_row(
    number: int,
    raw: dict[str, str],
    labels: dict[str, str],
    pedagogic_hours: float,
    office: str,
) -> tuple[SheetRow | None, list[RowError]]:
    reader = _RowReader(number, raw, labels)
    reader.values["office"] = office
    reader.names()
    reader.identity()
    reader.codes()
    hours = reader.number("hours", pedagogic_hours)
    pre = reader.number("pre_score", 100)
    post = reader.number("post_score", 100)
    if (pre is None) != (post is None) and not reader.errors:
        reader.fail(
            "post_score" if post is None else "pre_score",
            "indique la nota de entrada y la de salida",
        )
    if reader.errors:
        return None, reader.errors
    try:
        person = ParticipantCreate(**reader.values)
    except ValidationError as exc:
        for problem in exc.errors():
            reader.fail(str(problem["loc"][0]) if problem["loc"] else "fila", "no es válido")
        return None, reader.errors
    return SheetRow(row=number, person=person, hours=hours, pre_score=pre, post_score=post), []


class _RowReader:
    """Validates one row's cells, collecting every error (not just the first)."""

    def __init__(self, number: int, raw: dict[str, str], labels: dict[str, str]) -> None:
        self.row = number
        self.raw = raw
        self.labels = labels
        self.values: dict[str, Any] = {}
        self.errors: list[RowError] = []

    def fail(self, name: str, message: str) -> None:
        """Record an error on a column, named as the sheet names it."""
        column = self.labels.get(name, name)
        self.errors.append(RowError(row=self.row, column=column, message=message))

    def names(self) -> None:
        """Given and family names: required."""
        for name in ("given_names", "family_names"):
            text = self.raw.get(name, "")
            if not text:
                self.fail(name, "es obligatorio")
            elif len(text) > 100:
                self.fail(name, "tiene más de 100 caracteres")
            else:
                self.values[name] = text

    def identity(self) -> None:
        """Document and contacts: a document number or an email is required (deduplication)."""
        document_type = None
        if self.raw.get("document_type"):
            document_type = DOCUMENT_TYPE_WORDS.get(_plain(self.raw["document_type"]))
            if document_type is None:
                self.fail("document_type", "debe ser DNI, CE, pasaporte u otro")
        document = self.raw.get("document_number", "")
        if document:
            self.document(document, document_type)
        email = self.raw.get("email", "")
        if email and (len(email) > 200 or not EMAIL.match(email)):
            self.fail("email", "no es un correo electrónico válido")
        elif email:
            self.values["email"] = email
        if not document and not email:
            self.fail(
                "document_number" if "document_number" in self.labels else "email",
                "indique el número de documento o el correo de la persona",
            )
        phone = self.raw.get("phone", "")
        if phone and not PHONE.match(phone):
            self.fail("phone", "no es un teléfono válido")
        elif phone:
            self.values["phone"] = phone

    def document(self, document: str, document_type: str | None) -> None:
        """A document number; a DNI has 8 digits (Excel may have dropped leading zeros)."""
        if document.isdigit() and len(document) < 8 and document_type in (None, "dni"):
            document = document.zfill(8)
        is_dni_shape = re.fullmatch(r"\d{8}", document) is not None
        if not DOCUMENT.match(document):
            self.fail("document_number", "no es un número de documento válido")
        elif document_type == "dni" and not is_dni_shape:
            self.fail("document_number", "un DNI tiene 8 dígitos")
        else:
            self.values["document_number"] = document
            self.values["document_type"] = document_type or ("dni" if is_dni_shape else None)

    def codes(self) -> None:
        """Sex and catalogue codes, written as the code or as the Spanish label."""
        sex = SEXES.get(_plain(self.raw.get("sex", "")))
        if sex is None:
            self.fail("sex", "debe ser Mujer, Hombre o No informado")
        else:
            self.values["sex"] = sex
        for name, lookup, expected in (
            ("institution_kind", INSTITUTIONS, "un tipo de institución del catálogo"),
            ("role", ROLES, "un cargo del catálogo"),
            ("region", REGION_CODES, "una región del Perú (nombre o código INEI)"),
            ("audience", AUDIENCE_CODES, "un público del catálogo"),
        ):
            text = self.raw.get(name, "")
            if not text:
                continue
            code = lookup.get(_plain(text))
            if code is None:
                self.fail(name, f"debe ser {expected}")
            else:
                self.values[name] = code

    def number(self, name: str, high: float) -> float | None:
        """An optional number between 0 and `high` (a decimal comma is accepted)."""
        text = self.raw.get(name, "")
        if not text:
            return None
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            self.fail(name, "debe ser un número")
            return None
        if not 0 <= value <= high:
            self.fail(name, f"debe estar entre 0 y {high:g}")
            return None
        return value
