"""Request and response bodies of the intake API (personal data only in the *PersonalData* ones)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from ruta_shared.events.catalog.intake import ClosureReason, GivenBy
from ruta_shared.reference import (
    COUNTRY_PATTERN,
    REGION_OR_COUNTRY_PATTERN,
    UBIGEO_PATTERN,
    AgeGroup,
    ArrivalChannel,
    CareType,
    CaseStatus,
    ConsentPurpose,
    CrimeType,
    ExploitationPurpose,
    InstitutionKind,
    Office,
    Sex,
)

from ruta_intake.codes import (
    DocumentType,
    ExploitationSetting,
    MeansOfControl,
    RecruitmentMethod,
    Relationship,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
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
Ubigeo = Annotated[str, Field(pattern=UBIGEO_PATTERN, description="Región (código ubigeo INEI)")]
Country = Annotated[str, Field(pattern=COUNTRY_PATTERN, description="País (ISO 3166-1 alfa-2)")]
RegionOrCountry = Annotated[
    str, Field(pattern=REGION_OR_COUNTRY_PATTERN, description="Región (ubigeo) o país (ISO 3166)")
]
ResourceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class _Input(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- personal data (encrypted at rest, never in events, logs or POST responses) ---


class PersonalDataIn(_Input):
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


class TraffickingDetail(_Input):
    """Optional trafficking detail aligned with HTCDS (codes from the catalogue)."""

    recruitment_method: RecruitmentMethod | None = None
    means_of_control: list[MeansOfControl] = Field(default_factory=list, max_length=20)
    exploitation_setting: ExploitationSetting | None = None
    exploitation_region: Ubigeo | None = None
    exploitation_country: Country | None = None


class VictimBase(_Input):
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


# --- relatives ---


class RelativeCreate(_Input):
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


# --- consent ---


class ConsentCreate(_Input):
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


class ConsentWithdraw(_Input):
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


# --- care ---


class CareCreate(_Input):
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
    recorded_at: datetime


# --- cases ---


class CaseFacts(_Input):
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


class CaseUpdate(_Input):
    """Correct a case's facts; absent fields keep their value."""

    crime_types: list[CrimeType] | None = Field(default=None, min_length=1, max_length=7)
    exploitation_purposes: list[ExploitationPurpose] | None = Field(default=None, max_length=8)
    region_of_exploitation: Ubigeo | None = None
    arrival_channel: ArrivalChannel | None = None
    referring_institution_kind: InstitutionKind | None = None


class StatusChange(_Input):
    """Move a case between open and in care."""

    status: Literal["open", "in_care"]


class CaseClose(_Input):
    """Close a case with a reason."""

    closure_reason: ClosureReason
    closed_at: AwareDatetime | None = None


class CaseReopen(_Input):
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
    closed_at: datetime | None
    reopened_at: datetime | None
    victims: list[VictimRead]
    relatives: list[RelativeRead]
    consents: list[ConsentRead]
    care_count: int
    created_by: str
    updated_at: datetime
    version: int = Field(description="Versión actual (el ETag del caso).")


class ErasureRead(BaseModel):
    """The outcome of erasing a victim's personal data."""

    case_id: str
    victim_id: str
    erased_at: datetime
    relative_ids: list[str]
    version: int


class BreakGlassCreate(_Input):
    """Ask for time-limited access to a case outside one's offices."""

    justification: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ]


class BreakGlassRead(BaseModel):
    """A break-the-glass grant (the justification stays encrypted)."""

    grant_id: str
    case_id: str
    expires_at: datetime


class AccessRecord(BaseModel):
    """One recorded read of a person's personal data."""

    access_id: str
    user_id: str
    role: str
    purpose: str
    fields: list[str]
    accessed_at: datetime
    break_glass_grant_id: str | None


class CodeLabel(BaseModel):
    """A code and its Spanish label."""

    code: str
    label: str


class Catalogue(BaseModel):
    """Every code the intake API accepts, with its Spanish label."""

    offices: list[CodeLabel]
    regions: list[CodeLabel]
    crime_types: list[CodeLabel]
    exploitation_purposes: list[CodeLabel]
    sexes: list[CodeLabel]
    age_groups: list[CodeLabel]
    arrival_channels: list[CodeLabel]
    institution_kinds: list[CodeLabel]
    care_types: list[CodeLabel]
    case_statuses: list[CodeLabel]
    closure_reasons: list[CodeLabel]
    consent_purposes: list[CodeLabel]
    consent_given_by: list[CodeLabel]
    relationships: list[CodeLabel]
    document_types: list[CodeLabel]
    recruitment_methods: list[CodeLabel]
    means_of_control: list[CodeLabel]
    exploitation_settings: list[CodeLabel]
    access_purposes: list[CodeLabel]


class ErrorItem(BaseModel):
    """One rejected field."""

    field: str
    type: str
    message: str


class Problem(BaseModel):
    """An error: a Spanish sentence, and the fields at fault when there are any."""

    detail: str
    errors: list[ErrorItem] | None = None
    existing_victim_id: str | None = Field(
        default=None, description="Víctima ya registrada con el mismo documento (aviso 409)."
    )
