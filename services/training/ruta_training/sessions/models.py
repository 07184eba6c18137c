"""Request and response bodies of sessions and what is recorded on them (Spanish descriptions).

Families: `XCreate` is what a client sends to make X, `XRead` what it reads back.
Responses to POSTs carry ids and non-identifying attributes only (they may be stored
for Idempotency-Key replays); personal data is read through the audited GET.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import (
    PROJECT_CODE_PATTERN,
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

Region = Field(pattern=UBIGEO_PATTERN, description="Región (código de departamento INEI)")
Score = Field(ge=0, le=100, description="Puntaje de 0 a 100")


class Body(BaseModel):
    """What every request body of the training API shares: no unknown fields, trimmed text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- sessions ---------------------------------------------------------------------------


class ModuleIn(Body):
    """One module of a multi-module course."""

    title: str = Field(min_length=1, max_length=200)
    hours: float = Field(gt=0, le=1000)


class SessionCreate(Body):
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
        default=None, pattern=PROJECT_CODE_PATTERN, description="Código del registro de proyectos"
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


class SessionHold(Body):
    """Mark a session as held."""

    held_on: date | None = Field(default=None, description="Por defecto, la fecha de fin")


class SessionCancel(Body):
    """Cancel a scheduled session."""

    reason: str | None = Field(default=None, max_length=300)


# --- attendance, head counts, assessments -----------------------------------------------


class AttendanceCreate(Body):
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


class HeadcountSet(Body):
    """People counted where names were not taken, for one audience of a session."""

    female: int = Field(ge=0, le=100_000)
    male: int = Field(ge=0, le=100_000)
    unknown: int = Field(default=0, ge=0, le=100_000)


class HeadcountRead(HeadcountSet):
    """A session's head count for one audience."""

    audience: Audience
    total: int


class AssessmentCreate(Body):
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
