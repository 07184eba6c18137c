"""Request and response bodies of the participant registry (names only in the audited read)."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, Field
from ruta_shared.reference import (
    UBIGEO_PATTERN,
    Audience,
    Office,
    Sex,
    TraineeInstitutionKind,
    TraineeRole,
)

from ruta_training.sessions.models import Body

DocumentType = Literal["dni", "ce", "passport", "other"]
DOCUMENT_TYPES: dict[str, str] = {
    "dni": "DNI",
    "ce": "Carné de extranjería",
    "passport": "Pasaporte",
    "other": "Otro documento",
}


class ParticipantAttributes(Body):
    """What may be counted about a participant (no personal data)."""

    sex: Sex = "unknown"
    audience: Audience | None = None
    institution_kind: TraineeInstitutionKind | None = None
    role: TraineeRole | None = None
    region: str | None = Field(default=None, pattern=UBIGEO_PATTERN)


Names = Annotated[str, Field(min_length=1, max_length=100)]
DocumentNumber = Annotated[
    str, Field(min_length=4, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9 .\-/]*$")
]
Email = Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, Field(max_length=30, pattern=r"^\+?[0-9 ()\-]{6,30}$")]


class ParticipantCreate(ParticipantAttributes):
    """Register a participant; a known document number or email returns the same person."""

    office: Office = Field(description="Oficina que registra")
    given_names: Names
    family_names: Names
    document_type: DocumentType | None = None
    document_number: DocumentNumber | None = None
    email: Email | None = None
    phone: Phone | None = None


DUPLICATE_NOTICE: Final = "posible duplicado en otra oficina; un coordinador puede revisarlo"


class ParticipantRegistered(BaseModel):
    """The participant's pseudonymous id; `created` is false when the person was known.

    `notice` is set when the person may also be registered by an office the caller cannot
    see: it names no id, office or date, and a coordinator resolves the pair.
    """

    id: str
    created: bool
    notice: str | None = None


class ParticipantRead(BaseModel):
    """A participant's non-identifying attributes."""

    id: str
    offices: list[Office]
    sex: Sex
    audience: Audience | None
    institution_kind: TraineeInstitutionKind | None
    role: TraineeRole | None
    region: str | None
    erased: bool = Field(default=False, description="Sus datos personales fueron eliminados")


class ParticipantPersonalRead(ParticipantRead):
    """A participant with decrypted personal data (each read is recorded)."""

    given_names: str
    family_names: str
    document_type: DocumentType | None
    document_number: str | None
    email: str | None
    phone: str | None
