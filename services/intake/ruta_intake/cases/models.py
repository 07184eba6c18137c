"""Bodies of cases: opening, corrections, status changes, closure, break-the-glass, reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints
from ruta_shared.events.catalog.intake import ClosureReason
from ruta_shared.reference import (
    ArrivalChannel,
    CaseStatus,
    CrimeType,
    ExploitationPurpose,
    InstitutionKind,
    Office,
)

from ruta_intake.bodies import Input, Ubigeo
from ruta_intake.consent.models import ConsentRead
from ruta_intake.victims.models import RelativeRead, VictimCreate, VictimRead


class CaseFacts(Input):
    """A case's non-identifying facts, shared by creation and update."""

    crime_types: list[CrimeType] = Field(min_length=1, max_length=7)
    exploitation_purposes: list[ExploitationPurpose] = Field(default_factory=list, max_length=8)
    region_of_exploitation: Ubigeo | None = None
    arrival_channel: ArrivalChannel
    referring_institution_kind: InstitutionKind | None = Field(
        default=None, description="Obligatorio si el caso llegó derivado por una institución."
    )


class CaseCreate(CaseFacts):
    """Open a case at an office with its first victims."""

    office: Office
    opened_at: AwareDatetime | None = Field(default=None, description="Por defecto, ahora.")
    victims: list[VictimCreate] = Field(min_length=1, max_length=50)


class CaseUpdate(Input):
    """Correct a case's facts; absent fields keep their value."""

    crime_types: list[CrimeType] | None = Field(default=None, min_length=1, max_length=7)
    exploitation_purposes: list[ExploitationPurpose] | None = Field(default=None, max_length=8)
    region_of_exploitation: Ubigeo | None = None
    arrival_channel: ArrivalChannel | None = None
    referring_institution_kind: InstitutionKind | None = None


class StatusChange(Input):
    """Move a case between open and in care."""

    status: Literal["open", "in_care"]


class CaseClose(Input):
    """Close a case with a reason."""

    closure_reason: ClosureReason
    closed_at: AwareDatetime | None = None


class CaseReopen(Input):
    """Reopen a closed case."""

    reopened_at: AwareDatetime | None = None


class CaseSummary(BaseModel):
    """A case in a list."""

    case_id: str
    case_code: str
    office: Office
    opened_at: datetime
    status: CaseStatus
    crime_types: list[CrimeType]
    region_of_exploitation: str | None
    victim_count: int
    version: int = Field(description="Versión actual (el ETag del caso).")


class CaseRead(BaseModel):
    """A case with its victims, relatives and consents (no personal data)."""

    case_id: str
    case_code: str
    office: Office
    opened_at: datetime
    crime_types: list[CrimeType]
    exploitation_purposes: list[ExploitationPurpose]
    region_of_exploitation: str | None
    arrival_channel: ArrivalChannel
    referring_institution_kind: InstitutionKind | None
    status: CaseStatus
    closure_reason: ClosureReason | None
    project_code: str | None = Field(default=None, description="Proyecto del caso.")
    closed_at: datetime | None
    reopened_at: datetime | None
    victims: list[VictimRead]
    relatives: list[RelativeRead]
    consents: list[ConsentRead]
    care_count: int
    created_by: str
    updated_at: datetime
    version: int = Field(description="Versión actual (el ETag del caso).")


class BreakGlassCreate(Input):
    """Ask for time-limited access to a case outside one's offices."""

    justification: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ]


class BreakGlassRead(BaseModel):
    """A break-the-glass grant (the justification stays encrypted)."""

    grant_id: str
    case_id: str
    expires_at: datetime
