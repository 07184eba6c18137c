"""Bodies of consent: a new version for one purpose, a withdrawal, a version as read."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field
from ruta_shared.events.catalog.intake import GivenBy
from ruta_shared.reference import ConsentPurpose, InstitutionKind

from ruta_intake.bodies import Input, ResourceId


class ConsentCreate(Input):
    """A new consent version for one purpose (disclosure: per kind of institution)."""

    purpose: ConsentPurpose
    institution_kind: InstitutionKind | None = Field(
        default=None, description="Obligatorio si el propósito es `disclosure`."
    )
    given_by: GivenBy
    granted: bool
    guardian_relative_id: ResourceId | None = Field(
        default=None, description="El familiar registrado que da el consentimiento como tutor."
    )
    recorded_at: AwareDatetime | None = None


class ConsentWithdraw(Input):
    """When a consent was withdrawn (now when absent)."""

    withdrawn_at: AwareDatetime | None = None


class ConsentRead(BaseModel):
    """One version of a consent."""

    consent_id: str
    victim_id: str
    version: int
    purpose: ConsentPurpose
    institution_kind: InstitutionKind | None
    given_by: GivenBy
    granted: bool
    guardian_relative_id: str | None
    recorded_at: datetime
    withdrawn_at: datetime | None
    current: bool = Field(description="Es la versión vigente de este consentimiento.")
