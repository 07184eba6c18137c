"""Bodies of data subjects' rights: a rectification, its outcome, an erasure, the export."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from ruta_shared.reference import ArrivalChannel, CaseStatus, CrimeType, ExploitationPurpose, Office

from ruta_intake.bodies import Input
from ruta_intake.care.models import CareRead
from ruta_intake.consent.models import ConsentRead
from ruta_intake.victims.models import (
    AccessRecord,
    PersonalDataIn,
    PersonalDataRead,
    RelativeRead,
    VictimRead,
)


class PersonalDataPatch(Input):
    """Rectify a person's personal data: only the fields sent change; `null` removes one."""

    personal_data: PersonalDataIn


class VictimDataPatch(PersonalDataPatch):
    """Rectify a victim's personal data (a new document number is checked for duplicates)."""

    allow_duplicate: bool = Field(
        default=False,
        description="Rectificar aunque el nuevo número de documento ya exista (tras revisar el "
        "aviso 409 con `existing_victim_id`).",
    )


class RectificationRead(BaseModel):
    """What a rectification changed: the names of the fields, never their values."""

    case_id: str
    subject_type: Literal["victim", "relative"]
    subject_id: str
    fields: list[str] = Field(description="Campos cambiados (vacío si nada cambió).")
    rectified_at: datetime | None
    duplicate_notice: str | None = Field(
        default=None, description="Aviso neutro de un posible duplicado en otra oficina."
    )
    version: int = Field(description="Versión del caso después del cambio (su ETag).")


class RelativeErasureRead(BaseModel):
    """The outcome of erasing a relative's personal data."""

    case_id: str
    victim_id: str
    relative_id: str
    erased_at: datetime
    version: int


class ExportCase(BaseModel):
    """The case the person's record belongs to (its facts; no other person of the case)."""

    case_id: str
    case_code: str
    office: Office
    opened_at: datetime
    status: CaseStatus
    crime_types: list[CrimeType]
    exploitation_purposes: list[ExploitationPurpose]
    region_of_exploitation: str | None
    arrival_channel: ArrivalChannel
    closed_at: datetime | None


class ExportRelative(BaseModel):
    """A relative of the victim and their decrypted personal data (none once erased)."""

    relative: RelativeRead
    personal_data: PersonalDataRead | None


class LinkedRecord(BaseModel):
    """Another record of the same person (a resolved duplicate): export it on its own."""

    case_id: str
    victim_id: str


class VictimExport(BaseModel):
    """Everything intake holds on one victim, decrypted, for a coordinator to hand over."""

    exported_at: datetime
    case: ExportCase
    victim: VictimRead
    personal_data: PersonalDataRead
    relatives: list[ExportRelative]
    consents: list[ConsentRead]
    care: list[CareRead]
    access_log: list[AccessRecord] = Field(description="Quién leyó sus datos, cuándo y para qué.")
    linked_records: list[LinkedRecord]


class RelativeExport(BaseModel):
    """Everything intake holds on one relative, decrypted: her record, data, consents, reads.

    Nothing of the victim beyond her pseudonymous id: a relative's request is answered with
    the relative's own data.
    """

    exported_at: datetime
    relative: RelativeRead
    personal_data: PersonalDataRead | None = Field(description="Ninguno si se borraron.")
    consents_given_as_guardian: list[ConsentRead]
    access_log: list[AccessRecord] = Field(description="Quién leyó sus datos, cuándo y para qué.")
