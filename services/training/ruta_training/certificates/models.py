"""Request and response bodies of certificates, and what a printed certificate shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from pydantic import BaseModel, Field
from ruta_shared.ids import ID_PATTERN

from ruta_training.sessions.models import Body


class CertificateCreate(Body):
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


ISSUED: Final = "emitido"
HOLDER_ERASED: Final = "emitido, titular eliminado"


class CertificateVerification(BaseModel):
    """All the public may learn from a verification code (never the holder's name)."""

    valid: bool
    status: Literal["emitido", "emitido, titular eliminado"] | None = Field(
        default=None, description="Estado del certificado (vacío si el código no es válido)"
    )
    holder_erased: bool = Field(
        default=False, description="Los datos del titular fueron eliminados a su pedido"
    )
    course: str | None = None
    date: dt.date | None = None


@dataclass(frozen=True)
class PrintableCertificate:
    """Everything the PDF shows."""

    full_name: str
    course: str
    format: str
    region: str
    starts_on: date
    ends_on: date
    hours: float
    issued_on: date
    code: str
    verification_url: str
    organisation: str
