"""API schemas of the route-of-care stages: the catalogue, entering, leaving, reading."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import PROJECT_CODE_PATTERN, RouteInstitutionKind, RouteStage


class StageCatalogueEntry(BaseModel):
    """One stage of the protocol, its Spanish label and its configured target duration."""

    code: str
    label: str
    order: int
    target_days: float


class StageCatalogue(BaseModel):
    """The protocol's stages and the kinds of institution responsible for them."""

    stages: list[StageCatalogueEntry]
    institution_kinds: dict[str, str]


class StageEnter(BaseModel):
    """Entering a stage (of one victim, or of the whole case when `victim_id` is absent)."""

    model_config = ConfigDict(extra="forbid")

    stage: RouteStage
    victim_id: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    institution_kind: RouteInstitutionKind = Field(description="Institución responsable.")
    entered_on: date
    project_code: str | None = Field(default=None, pattern=PROJECT_CODE_PATTERN)
    note: str | None = Field(
        default=None, min_length=1, max_length=4000, description="Nota (se guarda cifrada)."
    )


class StageLeave(BaseModel):
    """Leaving a stage."""

    model_config = ConfigDict(extra="forbid")

    left_on: date


class StageRead(BaseModel):
    """One occurrence of a stage (no free text: the note is read through `/details`)."""

    stage_occurrence_id: str
    case_id: str
    victim_id: str | None
    stage: RouteStage
    stage_label: str
    institution_kind: RouteInstitutionKind
    project_code: str | None
    entered_on: date
    left_on: date | None
    target_at: datetime | None
    overdue: bool
    overdue_since: datetime | None
    has_note: bool
    recorded_at: datetime


class StageDetails(BaseModel):
    """A stage occurrence's decrypted note."""

    stage_occurrence_id: str
    note: str | None
