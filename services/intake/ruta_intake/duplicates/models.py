"""Bodies of possible duplicates: a record as a coordinator sees it, and its resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from ruta_shared.events.catalog.intake import DuplicateOutcome
from ruta_shared.reference import Office

from ruta_intake.bodies import Input, ResourceId

DuplicateStatus = Literal["pending", "same_person", "different_people"]


class VictimRecordRef(BaseModel):
    """One victim record of a possible duplicate (ids only: no personal data)."""

    case_id: str
    case_code: str | None = Field(description="Ninguno si el caso ya no existe.")
    office: Office
    victim_id: str


class PossibleDuplicateRead(BaseModel):
    """A possible duplicate: the new record, the record it matched, and its resolution."""

    duplicate_id: str
    status: DuplicateStatus
    detected_at: datetime
    record: VictimRecordRef = Field(description="El registro que generó el aviso.")
    other: VictimRecordRef = Field(description="El registro con el mismo documento.")
    kept_victim_id: str | None = Field(description="Registro que cuenta a la persona (si es una).")
    resolved_at: datetime | None
    resolved_by: str | None


class DuplicateResolution(Input):
    """A coordinator's decision: one person in two records, or two different people."""

    outcome: DuplicateOutcome
    kept_victim_id: ResourceId | None = Field(
        default=None,
        description="Para `same_person`: el registro que cuenta a la persona (por defecto, el "
        "más antiguo). No se indica para `different_people`.",
    )
