"""API schemas of the institutions registry."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from ruta_shared.reference import REGION_OR_COUNTRY_PATTERN, InstitutionKind

Integration = Literal["webhook", "partner_api", "manual"]
INTEGRATIONS = {
    "webhook": "Webhook (Ruta notifica a la institución)",
    "partner_api": "API de socios (la institución consulta y responde)",
    "manual": "Manual (el equipo registra las respuestas)",
}
INSTITUTION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,62}$"


class InstitutionBase(BaseModel):
    """Fields shared by every institution schema."""

    model_config = ConfigDict(extra="forbid")

    kind: InstitutionKind
    name: str = Field(min_length=2, max_length=200)
    region: str | None = Field(default=None, pattern=REGION_OR_COUNTRY_PATTERN)
    contact: str | None = Field(
        default=None, max_length=300, description="Contacto institucional (no de una persona)."
    )
    integration: Integration = "manual"


class InstitutionCreate(InstitutionBase):
    """What a coordinator or administrator sends to register an institution."""

    id: str | None = Field(
        default=None,
        pattern=INSTITUTION_ID_PATTERN,
        description="Identificador legible (p. ej. fistrap-lima); se genera si falta.",
    )
    webhook_url: str | None = Field(default=None, max_length=500)


class InstitutionUpdate(BaseModel):
    """A partial change to an institution (only the fields sent change)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    region: str | None = Field(default=None, pattern=REGION_OR_COUNTRY_PATTERN)
    contact: str | None = Field(default=None, max_length=300)
    integration: Integration | None = None
    webhook_url: str | None = Field(default=None, max_length=500)
    active: bool | None = None


class InstitutionRead(InstitutionBase):
    """An institution as staff see it (never its webhook secret)."""

    id: str
    kind_label: str
    integration_label: str
    webhook_url: str | None
    has_webhook_secret: bool
    active: bool
    version: int


class WebhookSecretIssued(BaseModel):
    """A new webhook signing secret, shown once: Ruta keeps it only encrypted."""

    institution_id: str
    secret: str = Field(description="Secreto de firma (Standard Webhooks, prefijo whsec_).")
