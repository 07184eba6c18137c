"""Bodies of victims and relatives (personal data only in the *PersonalData* ones)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from ruta_shared.reference import COUNTRY_PATTERN, REGION_OR_COUNTRY_PATTERN, AgeGroup, Sex

from ruta_intake.bodies import Input, LongText, Text, Ubigeo
from ruta_intake.catalogue.codes import (
    DocumentType,
    ExploitationSetting,
    MeansOfControl,
    RecruitmentMethod,
    Relationship,
)

DocumentNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$"
    ),
]
Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=30, pattern=r"^\+?[0-9 ()-]+$"
    ),
]
Country = Annotated[str, Field(pattern=COUNTRY_PATTERN, description="País (ISO 3166-1 alfa-2)")]
RegionOrCountry = Annotated[
    str, Field(pattern=REGION_OR_COUNTRY_PATTERN, description="Región (ubigeo) o país (ISO 3166)")
]


# --- personal data (encrypted at rest, never in events, logs or POST responses) ---


class PersonalDataIn(Input):
    """A person's identifying data; every field is encrypted with the person's own key."""

    given_names: Text | None = None
    family_names: Text | None = None
    document_type: DocumentType | None = None
    document_number: DocumentNumber | None = None
    birth_date: date | None = None
    phone: Phone | None = None
    address: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
        | None
    ) = None
    notes: LongText | None = None


class PersonalDataRead(BaseModel):
    """A person's decrypted personal data, as one audited read returns it."""

    subject_type: Literal["victim", "relative"]
    subject_id: str
    case_id: str
    access_id: str | None = Field(
        description="Registro de acceso de esta lectura (ninguno si no había datos que leer)."
    )
    given_names: str | None = None
    family_names: str | None = None
    document_type: DocumentType | None = None
    document_number: str | None = None
    birth_date: date | None = None
    phone: str | None = None
    address: str | None = None
    notes: str | None = None


# --- victims ---


class TraffickingDetail(Input):
    """Optional trafficking detail aligned with HTCDS (codes from the catalogue)."""

    recruitment_method: RecruitmentMethod | None = None
    means_of_control: list[MeansOfControl] = Field(default_factory=list, max_length=20)
    exploitation_setting: ExploitationSetting | None = None
    exploitation_region: Ubigeo | None = None
    exploitation_country: Country | None = None


class VictimBase(Input):
    """Non-identifying attributes of a victim (these travel in events)."""

    sex: Sex
    age_at_intake: int | None = Field(default=None, ge=0, le=120)
    age_group: AgeGroup | None = Field(
        default=None, description="Se deriva de la fecha de nacimiento o de la edad si se dan."
    )
    nationality: Country | None = None
    region_of_origin: RegionOrCountry | None = None
    indigenous_people: bool | None = None
    disability: bool | None = None
    trafficking: TraffickingDetail | None = None


class VictimCreate(VictimBase):
    """A victim to register: attributes, personal data, and whether to accept a duplicate."""

    personal_data: PersonalDataIn = Field(default_factory=PersonalDataIn)
    allow_duplicate: bool = Field(
        default=False,
        description="Registrar aunque el número de documento ya exista (tras revisar el aviso "
        "409 con `existing_victim_id`).",
    )


class VictimAttributesUpdate(Input):
    """Correct a victim's non-identifying attributes; absent fields keep their value.

    With a birth date on record, age at intake and age group follow from it: correct the
    birth date (personal data) instead.
    """

    sex: Sex | None = None
    age_at_intake: int | None = Field(default=None, ge=0, le=120)
    age_group: AgeGroup | None = None
    nationality: Country | None = None
    region_of_origin: RegionOrCountry | None = None
    indigenous_people: bool | None = None
    disability: bool | None = None


class VictimRead(BaseModel):
    """A victim as the case shows it: pseudonymous id and non-identifying attributes."""

    victim_id: str
    case_id: str
    sex: Sex
    age_at_intake: int | None
    age_group: AgeGroup
    nationality: str | None
    region_of_origin: str | None
    indigenous_people: bool | None
    disability: bool | None
    trafficking: TraffickingDetail | None
    registered_at: datetime
    erased_at: datetime | None = Field(description="Cuándo se borraron sus datos personales.")
    duplicate_notice: str | None = Field(
        default=None,
        description="Solo al registrar: aviso neutro de un posible duplicado en otra oficina "
        "(sin identificador, oficina ni fecha); la víctima queda registrada igualmente.",
    )


# --- relatives ---


class RelativeCreate(Input):
    """A relative of a victim who also receives support."""

    relationship: Relationship
    personal_data: PersonalDataIn = Field(default_factory=PersonalDataIn)


class RelativeRead(BaseModel):
    """A relative: pseudonymous id and relationship only."""

    relative_id: str
    victim_id: str
    relationship: Relationship
    registered_at: datetime
    erased_at: datetime | None


# --- erasure and the access log ---


class ErasureRead(BaseModel):
    """The outcome of erasing a victim's personal data."""

    case_id: str
    victim_id: str
    erased_at: datetime
    relative_ids: list[str]
    version: int


class AccessRecord(BaseModel):
    """One recorded read of a person's personal data."""

    access_id: str
    user_id: str
    role: str
    purpose: str
    fields: list[str]
    accessed_at: datetime
    break_glass_grant_id: str | None
