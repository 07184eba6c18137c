"""Request and response bodies of the training API (Spanish descriptions, English fields).

Families: `XCreate` is what a client sends to make X, `XRead` what it reads back.
Responses to POSTs carry ids and non-identifying attributes only (they may be stored
for Idempotency-Key replays); personal data is read through the audited GET.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from ruta_shared.reference import (
    UBIGEO_PATTERN,
    Audience,
    Modality,
    Office,
    Sex,
    TraineeInstitutionKind,
    TraineeRole,
    TrainingFormat,
    TrainingTopic,
)

SessionStatus = Literal["scheduled", "held", "cancelled"]
DocumentType = Literal["dni", "ce", "passport", "other"]
DOCUMENT_TYPES: dict[str, str] = {
    "dni": "DNI",
    "ce": "Carné de extranjería",
    "passport": "Pasaporte",
    "other": "Otro documento",
}

Region = Field(pattern=UBIGEO_PATTERN, description="Región (código de departamento INEI)")
Hours = Field(ge=0, le=1000, description="Horas pedagógicas")
Score = Field(ge=0, le=100, description="Puntaje de 0 a 100")
# Ids are made by the service (UUIDv7); path parameters are checked against this shape.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- sessions ---------------------------------------------------------------------------


class ModuleIn(_Body):
    """One module of a multi-module course."""

    title: str = Field(min_length=1, max_length=200)
    hours: float = Field(gt=0, le=1000)


class SessionCreate(_Body):
    """Schedule a session (taller, curso, charla, asistencia técnica, encuentro)."""

    office: Office
    title: str = Field(min_length=3, max_length=200, description="Nombre del curso o taller")
    format: TrainingFormat
    topics: list[TrainingTopic] = Field(min_length=1, max_length=5)
    audiences: list[Audience] = Field(min_length=1, max_length=13)
    region: str = Region
    modality: Modality
    venue: str | None = Field(
        default=None, max_length=200, description="Lugar, o plataforma si es virtual"
    )
    starts_on: date
    ends_on: date
    pedagogic_hours: float = Field(gt=0, le=1000, description="Horas pedagógicas")
    modules: list[ModuleIn] = Field(default_factory=list, max_length=50)
    project_code: str | None = Field(
        default=None, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$", description="Proyecto"
    )
    funder: str | None = Field(default=None, max_length=120, description="Financiador")
    certificate_min_hours: float | None = Field(
        default=None, ge=0, le=1000, description="Horas mínimas para el certificado"
    )


class ModuleRead(BaseModel):
    """A module as stored, with its number (from 1)."""

    number: int
    title: str
    hours: float


class AssessmentSummary(BaseModel):
    """Pre and post test results of a session."""

    count: int
    average_pre: float | None
    average_post: float | None
    average_gain: float | None = Field(description="Promedio de (post − pre)")


class SessionRead(BaseModel):
    """A session with its counts (never participants' personal data)."""

    id: str
    office: Office
    title: str
    format: TrainingFormat
    topics: list[TrainingTopic]
    audiences: list[Audience]
    region: str
    modality: Modality
    venue: str | None
    starts_on: date
    ends_on: date
    pedagogic_hours: float
    modules: list[ModuleRead]
    project_code: str | None
    funder: str | None
    certificate_min_hours: float
    status: SessionStatus
    held_on: date | None
    cancelled_at: datetime | None
    attendance_count: int
    headcount_total: int
    certificates_count: int
    assessment: AssessmentSummary
    version: int = Field(description="Versión (ETag) para If-Match")


class SessionHold(_Body):
    """Mark a session as held."""

    held_on: date | None = Field(default=None, description="Por defecto, la fecha de fin")


class SessionCancel(_Body):
    """Cancel a scheduled session."""

    reason: str | None = Field(default=None, max_length=300)


# --- participants -----------------------------------------------------------------------


class ParticipantAttributes(_Body):
    """What may be counted about a participant (no personal data)."""

    sex: Sex = "unknown"
    audience: Audience | None = None
    institution_kind: TraineeInstitutionKind | None = None
    role: TraineeRole | None = None
    region: str | None = Field(default=None, pattern=UBIGEO_PATTERN)


class ParticipantCreate(ParticipantAttributes):
    """Register a participant; a known document number or email returns the same person."""

    office: Office = Field(description="Oficina que registra")
    given_names: str = Field(min_length=1, max_length=100)
    family_names: str = Field(min_length=1, max_length=100)
    document_type: DocumentType | None = None
    document_number: str | None = Field(
        default=None, min_length=4, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9 .\-/]*$"
    )
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9 ()\-]{6,30}$")


class ParticipantRegistered(BaseModel):
    """The participant's pseudonymous id; `created` is false when the person was known."""

    id: str
    created: bool


class ParticipantRead(BaseModel):
    """A participant's non-identifying attributes."""

    id: str
    offices: list[Office]
    sex: Sex
    audience: Audience | None
    institution_kind: TraineeInstitutionKind | None
    role: TraineeRole | None
    region: str | None


class ParticipantPersonalRead(ParticipantRead):
    """A participant with decrypted personal data (each read is recorded)."""

    given_names: str
    family_names: str
    document_type: DocumentType | None
    document_number: str | None
    email: str | None
    phone: str | None


# --- attendance, head counts, assessments -----------------------------------------------


class AttendanceCreate(_Body):
    """A registered participant attended (all of it, some hours, or some modules)."""

    participant_id: str = Field(pattern=ID_PATTERN)
    hours_attended: float | None = Field(
        default=None, ge=0, le=1000, description="Por defecto, todas las horas de la sesión"
    )
    modules_attended: list[int] | None = Field(
        default=None, min_length=1, max_length=50, description="Números de módulo"
    )


class AttendanceRead(BaseModel):
    """One participant's attendance at a session."""

    participant_id: str
    hours_attended: float
    modules_attended: list[int]
    sex: Sex
    audience: Audience
    institution_kind: TraineeInstitutionKind | None
    role: TraineeRole | None
    region: str | None
    recorded: Literal["created", "updated", "unchanged"] | None = None


class HeadcountSet(_Body):
    """People counted where names were not taken, for one audience of a session."""

    female: int = Field(ge=0, le=100_000)
    male: int = Field(ge=0, le=100_000)
    unknown: int = Field(default=0, ge=0, le=100_000)


class HeadcountRead(HeadcountSet):
    """A session's head count for one audience."""

    audience: Audience
    total: int


class AssessmentCreate(_Body):
    """A participant's pre and post test scores at a session."""

    participant_id: str = Field(pattern=ID_PATTERN)
    pre_score: float = Score
    post_score: float = Score


class AssessmentRead(BaseModel):
    """A participant's scores and gain."""

    participant_id: str
    pre_score: float
    post_score: float
    gain: float


# --- import -----------------------------------------------------------------------------


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
    assessments_recorded: int
    errors: list[RowError]
    duplicates: list[DuplicateRow]


# --- certificates and reach -------------------------------------------------------------


class CertificateCreate(_Body):
    """Issue a certificate to a participant who attended enough hours."""

    participant_id: str = Field(pattern=ID_PATTERN)


class CertificateIssued(BaseModel):
    """An issued certificate and its verification code."""

    certificate_id: str
    session_id: str
    participant_id: str
    hours: float
    issued_on: date
    verification_code: str
    verification_url: str
    created: bool


class CertificateVerification(BaseModel):
    """All the public may learn from a verification code."""

    valid: bool
    course: str | None = None
    date: dt.date | None = None


class ReachRead(BaseModel):
    """How many distinct people were reached (named participants count once each)."""

    sessions: int
    attendances: int = Field(description="Asistencias (persona × sesión)")
    distinct_participants: int
    headcount: int = Field(description="Personas contadas sin nombre")
    total_reach: int = Field(description="Participantes distintos + conteos sin nombre")
    by_sex: dict[str, int]
    by_audience: dict[str, int]
    by_region: dict[str, int]
