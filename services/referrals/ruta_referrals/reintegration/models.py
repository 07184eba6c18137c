"""API schemas of a victim's return home, reintegration milestones and a case's whole route."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from ruta_shared.reference import (
    PROJECT_CODE_PATTERN,
    REGION_OR_COUNTRY_PATTERN,
    ReintegrationMilestone,
)

from ruta_referrals.referrals.models import ReferralRead


class ReturnHomeCreate(BaseModel):
    """A victim's return to their place of origin."""

    model_config = ConfigDict(extra="forbid")

    region_of_origin: str = Field(
        pattern=REGION_OR_COUNTRY_PATTERN, description="Departamento (ubigeo) o país (ISO 3166)."
    )
    returned_on: date
    funded: bool = Field(description="Si la organización financió el retorno.")
    project_code: str | None = Field(
        default=None, pattern=PROJECT_CODE_PATTERN, description="Proyecto que lo financió."
    )


class ReturnHomeRead(ReturnHomeCreate):
    """A recorded return home."""

    return_id: str
    victim_id: str
    recorded_at: datetime


class MilestoneCreate(BaseModel):
    """A reintegration milestone the victim reached."""

    model_config = ConfigDict(extra="forbid")

    milestone: ReintegrationMilestone
    reached_on: date
    region: str | None = Field(default=None, pattern=REGION_OR_COUNTRY_PATTERN)


class MilestoneRead(MilestoneCreate):
    """A recorded milestone."""

    milestone_id: str
    milestone_label: str
    victim_id: str
    recorded_at: datetime


class CaseRouteRead(BaseModel):
    """A case's route of care as referrals knows it."""

    case_id: str
    case_code: str
    referrals: list[ReferralRead]
    returns: list[ReturnHomeRead]
    milestones: list[MilestoneRead]
