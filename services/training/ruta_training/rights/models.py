"""Request and response bodies of data subjects' rights: rectification, erasure, access export."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from ruta_shared.events.catalog.security import AccessPurpose
from ruta_shared.reference import (
    UBIGEO_PATTERN,
    Audience,
    Office,
    Sex,
    TraineeInstitutionKind,
    TraineeRole,
)

from ruta_training.participants.models import (
    DocumentNumber,
    DocumentType,
    Email,
    Names,
    ParticipantPersonalRead,
    Phone,
)
from ruta_training.sessions.models import Body


class ParticipantRectify(Body):
    """Correct a participant's data: only the fields sent change; null clears an optional one."""

    given_names: Names | None = None
    family_names: Names | None = None
    document_type: DocumentType | None = None
    document_number: DocumentNumber | None = None
    email: Email | None = None
    phone: Phone | None = None
    sex: Sex | None = None
    audience: Audience | None = None
    institution_kind: TraineeInstitutionKind | None = None
    role: TraineeRole | None = None
    region: str | None = Field(default=None, pattern=UBIGEO_PATTERN)


class ParticipantRectified(ParticipantPersonalRead):
    """The participant after the correction, which fields changed, and a duplicate notice."""

    fields_changed: list[str]
    notice: str | None = None


class ErasureRead(BaseModel):
    """When a participant's personal data was erased (attendance figures stay)."""

    participant_id: str
    erased_at: datetime


class ExportCertificate(BaseModel):
    """A certificate the person holds, with its verification code."""

    certificate_id: str
    hours: float
    issued_on: date
    verification_code: str | None = Field(description="Vacío si no se puede recuperar")


class ExportAttendance(BaseModel):
    """One session the person attended, with their hours, scores and certificate."""

    session_id: str
    title: str
    office: Office
    format: str
    region: str
    starts_on: date
    ends_on: date
    status: str
    hours_attended: float
    modules_attended: list[int]
    pre_score: float | None
    post_score: float | None
    certificate: ExportCertificate | None


class ExportRead(BaseModel):
    """A read of the person's personal data recorded in the access log (not who read it)."""

    accessed_at: datetime
    role: str
    purpose: AccessPurpose
    fields: list[str]


class ExportChange(BaseModel):
    """A change of the person's record: a correction (field names) or a merge."""

    action: str
    at: datetime
    fields: list[str] = Field(default_factory=list)


class ParticipantExport(BaseModel):
    """Everything training holds on one person, decrypted, for a coordinator to hand over."""

    generated_at: datetime
    participant: ParticipantPersonalRead
    registered_at: datetime | None
    merged_from: list[str] = Field(description="Registros duplicados unidos a este")
    attendance: list[ExportAttendance]
    reads: list[ExportRead] = Field(description="Lecturas de sus datos personales")
    changes: list[ExportChange]
