"""The report of an attendance sheet import: counts and row errors, never a cell's value."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RowError(BaseModel):
    """A problem with one cell of the sheet (the value itself is never echoed)."""

    row: int = Field(description="Número de fila en la hoja (la cabecera es la fila 1)")
    column: str
    message: str


class DuplicateRow(BaseModel):
    """A row naming the same person as an earlier row of the same sheet."""

    row: int
    same_as_row: int


class ImportReport(BaseModel):
    """What an attendance sheet did: counts, and the rows that could not be imported."""

    import_id: str
    session_id: str
    file_sha256: str
    previous_import_id: str | None = Field(description="Si esta misma hoja ya se subió")
    rows_total: int
    rows_imported: int = Field(description="Asistencias nuevas")
    rows_updated: int = Field(description="Asistencias cuyo total de horas cambió")
    rows_already_recorded: int = Field(description="Asistencias que ya estaban registradas")
    rows_duplicated: int = Field(description="Filas que repiten a una persona de otra fila")
    rows_with_errors: int
    participants_created: int
    participants_possible_duplicates: int = Field(
        default=0,
        description="Participantes que quizá ya registró otra oficina; un coordinador "
        "puede revisarlo",
    )
    assessments_recorded: int
    errors: list[RowError]
    duplicates: list[DuplicateRow]
