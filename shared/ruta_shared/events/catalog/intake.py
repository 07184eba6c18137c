"""Events published by the intake service (cases, victims, relatives, consent, care), keyed by case.

No personal data: pseudonymous ids and non-identifying attributes only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from ruta_shared.events.envelope import EventData
from ruta_shared.events.registry_default import EVENTS
from ruta_shared.reference import (
    COUNTRY_PATTERN,
    PROJECT_CODE_PATTERN,
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

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
ClosureReason = Literal[
    "reintegrated", "transferred", "lost_contact", "declined_services", "deceased", "other"
]
GivenBy = Literal["victim", "guardian"]


class _IntakeEvent(EventData):
    source: ClassVar[str] = "intake"
    case_id: str = Id


@EVENTS.register
class CaseOpened(_IntakeEvent):
    """A case was opened at an office."""

    event_type: ClassVar[str] = "case.opened"
    case_code: str = Field(pattern=r"^[A-Z]{3}-\d{4}-\d{4,}$")
    office: Office
    opened_at: datetime
    crime_types: list[CrimeType] = Field(min_length=1)
    exploitation_purposes: list[ExploitationPurpose] = Field(default_factory=list)
    region_of_exploitation: str | None = Field(default=None, pattern=UBIGEO_PATTERN)
    arrival_channel: ArrivalChannel
    referring_institution_kind: InstitutionKind | None = None


@EVENTS.register
class VictimRegistered(_IntakeEvent):
    """A victim was registered in a case (non-identifying attributes only)."""

    event_type: ClassVar[str] = "victim.registered"
    victim_id: str = Id
    office: Office
    sex: Sex
    age_group: AgeGroup
    age_at_intake: int | None = Field(default=None, ge=0, le=120)
    nationality: str | None = Field(default=None, pattern=COUNTRY_PATTERN)
    region_of_origin: str | None = Field(default=None, pattern=REGION_OR_COUNTRY_PATTERN)
    indigenous_people: bool | None = None
    disability: bool | None = None
    registered_at: datetime


@EVENTS.register
class RelativeRegistered(_IntakeEvent):
    """A relative of a victim was registered to receive support."""

    event_type: ClassVar[str] = "relative.registered"
    victim_id: str = Id
    relative_id: str = Id
    relationship: Literal["parent", "sibling", "child", "partner", "grandparent", "other"]
    registered_at: datetime


@EVENTS.register
class ConsentRecorded(_IntakeEvent):
    """A victim's (or guardian's) consent for one purpose was recorded (a new version)."""

    event_type: ClassVar[str] = "consent.recorded"
    victim_id: str = Id
    consent_id: str = Id
    consent_version: int = Field(ge=1)
    purpose: ConsentPurpose
    institution_kind: InstitutionKind | None = None  # set for "disclosure"
    given_by: GivenBy
    granted: bool
    recorded_at: datetime


@EVENTS.register
class ConsentWithdrawn(_IntakeEvent):
    """A consent was withdrawn."""

    event_type: ClassVar[str] = "consent.withdrawn"
    victim_id: str = Id
    consent_id: str = Id
    consent_version: int = Field(ge=1)
    purpose: ConsentPurpose
    institution_kind: InstitutionKind | None = None
    withdrawn_at: datetime


@EVENTS.register
class CareProvided(_IntakeEvent):
    """Care was given to a victim."""

    event_type: ClassVar[str] = "care.provided"
    victim_id: str = Id
    care_id: str = Id
    care_type: CareType
    office: Office
    provided_on: date
    professional_id: str = Id
    duration_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    amount_pen: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    project_code: str | None = Field(default=None, pattern=PROJECT_CODE_PATTERN)


@EVENTS.register
class CaseStatusChanged(_IntakeEvent):
    """A case moved from one status to another."""

    event_type: ClassVar[str] = "case.status_changed"
    from_status: CaseStatus
    to_status: CaseStatus
    changed_at: datetime


@EVENTS.register
class CaseClosed(_IntakeEvent):
    """A case was closed, with a reason."""

    event_type: ClassVar[str] = "case.closed"
    closure_reason: ClosureReason
    closed_at: datetime


class _ClosureRequestEvent(_IntakeEvent):
    """A closure request names the request, the case's office and the reason code asked for."""

    request_id: str = Id
    office: Office
    closure_reason: ClosureReason
    requested_at: datetime


@EVENTS.register
class CaseClosureRequested(_ClosureRequestEvent):
    """A case worker asked a coordinator to close the case (the note stays encrypted)."""

    event_type: ClassVar[str] = "case.closure_requested"


@EVENTS.register
class CaseClosureApproved(_ClosureRequestEvent):
    """A coordinator approved a closure request; `case.closed` follows in the same write."""

    event_type: ClassVar[str] = "case.closure_approved"
    approved_at: datetime


@EVENTS.register
class CaseClosureReturned(_ClosureRequestEvent):
    """A coordinator returned a closure request with a comment (the comment stays encrypted)."""

    event_type: ClassVar[str] = "case.closure_returned"
    returned_at: datetime


@EVENTS.register
class CaseReopened(_IntakeEvent):
    """A closed case was reopened."""

    event_type: ClassVar[str] = "case.reopened"
    reopened_at: datetime


@EVENTS.register
class CaseDetailsUpdated(_IntakeEvent):
    """A case's non-identifying facts were corrected (the values after the change)."""

    event_type: ClassVar[str] = "case.details_updated"
    crime_types: list[CrimeType] = Field(min_length=1)
    exploitation_purposes: list[ExploitationPurpose] = Field(default_factory=list)
    region_of_exploitation: str | None = Field(default=None, pattern=UBIGEO_PATTERN)
    arrival_channel: ArrivalChannel
    referring_institution_kind: InstitutionKind | None = None
    updated_at: datetime


@EVENTS.register
class VictimDataErased(_IntakeEvent):
    """A victim's personal data was erased (crypto-shredded); the statistics stay.

    The personal data of the victim's relatives (`relative_ids`) is erased with it.
    """

    event_type: ClassVar[str] = "victim.data_erased"
    victim_id: str = Id
    erased_at: datetime
    relative_ids: list[str] = Field(default_factory=list)


@EVENTS.register
class RelativeDataErased(_IntakeEvent):
    """A relative's personal data was erased (crypto-shredded) on its own; the relative stays."""

    event_type: ClassVar[str] = "relative.data_erased"
    victim_id: str = Id
    relative_id: str = Id
    erased_at: datetime


PersonalField = Literal[
    "given_names",
    "family_names",
    "document_type",
    "document_number",
    "birth_date",
    "phone",
    "address",
    "notes",
]


@EVENTS.register
class VictimPersonalDataRectified(_IntakeEvent):
    """A victim's personal data was rectified: which fields changed, never their values."""

    event_type: ClassVar[str] = "victim.personal_data_rectified"
    victim_id: str = Id
    fields: list[PersonalField] = Field(min_length=1, max_length=8)
    rectified_at: datetime


@EVENTS.register
class RelativePersonalDataRectified(_IntakeEvent):
    """A relative's personal data was rectified: which fields changed, never their values."""

    event_type: ClassVar[str] = "relative.personal_data_rectified"
    victim_id: str = Id
    relative_id: str = Id
    fields: list[PersonalField] = Field(min_length=1, max_length=8)
    rectified_at: datetime


@EVENTS.register
class VictimAttributesCorrected(_IntakeEvent):
    """A victim's non-identifying attributes were corrected (the values after the change).

    Analytics moves the victim's counts from the old cell to the new one; the case's office
    does not change.
    """

    event_type: ClassVar[str] = "victim.attributes_corrected"
    victim_id: str = Id
    sex: Sex
    age_group: AgeGroup
    age_at_intake: int | None = Field(default=None, ge=0, le=120)
    nationality: str | None = Field(default=None, pattern=COUNTRY_PATTERN)
    region_of_origin: str | None = Field(default=None, pattern=REGION_OR_COUNTRY_PATTERN)
    indigenous_people: bool | None = None
    disability: bool | None = None
    corrected_at: datetime


@EVENTS.register
class VictimPossibleDuplicateDetected(_IntakeEvent):
    """A new victim's document matches a victim of an office the registering user cannot see.

    Neither the other victim nor its office is named here: a coordinator resolves the
    possible duplicate (`duplicate_id`) through intake's API.
    """

    event_type: ClassVar[str] = "victim.possible_duplicate_detected"
    victim_id: str = Id
    duplicate_id: str = Id
    detected_at: datetime


DuplicateOutcome = Literal["same_person", "different_people"]


@EVENTS.register
class VictimDuplicateResolved(_IntakeEvent):
    """A coordinator resolved a possible duplicate: one person in two records, or two people.

    `case_id`/`victim_id` are the record that raised it, `other_*` the record it matched;
    for `same_person`, `kept_victim_id` is the record that counts the person (analytics
    counts the other one no more).
    """

    event_type: ClassVar[str] = "victim.duplicate_resolved"
    victim_id: str = Id
    duplicate_id: str = Id
    other_case_id: str = Id
    other_victim_id: str = Id
    outcome: DuplicateOutcome
    kept_victim_id: str | None = Field(default=None, min_length=1, max_length=64)
    resolved_at: datetime


class _ProjectEvent(EventData):
    """A funded project as the registry holds it (public facts, no personal data)."""

    source: ClassVar[str] = "intake"
    project_code: str = Field(pattern=PROJECT_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    funder: str = Field(min_length=1, max_length=200)
    starts_on: date
    ends_on: date
    offices: list[Office] = Field(min_length=1)


@EVENTS.register
class ProjectRegistered(_ProjectEvent):
    """A funded project was added to the registry (subject = project code)."""

    event_type: ClassVar[str] = "project.registered"


@EVENTS.register
class ProjectUpdated(_ProjectEvent):
    """A project's facts were corrected (the values after the change)."""

    event_type: ClassVar[str] = "project.updated"


@EVENTS.register
class CaseProjectAssigned(_IntakeEvent):
    """A case was assigned to a funded project (or taken out of one: `project_code` None)."""

    event_type: ClassVar[str] = "case.project_assigned"
    office: Office
    project_code: str | None = Field(default=None, pattern=PROJECT_CODE_PATTERN)
    assigned_at: datetime
