"""Bodies of care records: what was given to a victim, and a record as read."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from ruta_shared.reference import PROJECT_CODE_PATTERN, CareType

from ruta_intake.bodies import Input, ResourceId


class CareCreate(Input):
    """Care given to a victim."""

    care_type: CareType
    provided_on: date
    professional_id: ResourceId | None = Field(
        default=None, description="Usuario profesional que atendió (por defecto, quien registra)."
    )
    duration_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    amount_pen: Decimal | None = Field(
        default=None, ge=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2
    )
    project_code: str | None = Field(
        default=None, pattern=PROJECT_CODE_PATTERN, description="Proyecto que la financia."
    )


class CareRead(BaseModel):
    """One care record."""

    care_id: str
    case_id: str
    victim_id: str
    care_type: CareType
    provided_on: date
    professional_id: str
    duration_minutes: int | None
    amount_pen: Decimal | None
    project_code: str | None = None
    recorded_at: datetime
