"""Request and response bodies of the participant registry (names only in the audited read)."""

from __future__ import annotations

from typing import Literal

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
