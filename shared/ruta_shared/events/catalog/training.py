"""Events published by the training service (session events are keyed by session id).

Participants appear by pseudonymous id with non-identifying attributes only; registry events
(rectification, erasure, duplicates) are keyed by participant or duplicate id."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from ruta_shared.events.envelope import EventData
from ruta_shared.events.registry_default import EVENTS
from ruta_shared.reference import (
    UBIGEO_PATTERN,
    Audience,
    Modality,
    Office,
    Sex,
    TrainingFormat,
    TrainingTopic,
)

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class _TrainingEvent(EventData):
    source: ClassVar[str] = "training"
    session_id: str = Id


@EVENTS.register
class TrainingSessionScheduled(_TrainingEvent):
    """A training session was scheduled."""

    event_type: ClassVar[str] = "training.session_scheduled"
    office: Office
    format: TrainingFormat
    topics: list[TrainingTopic] = Field(min_length=1)
    audiences: list[Audience] = Field(min_length=1)
    region: str = Field(pattern=UBIGEO_PATTERN)
    modality: Modality
    starts_on: date
    ends_on: date
    pedagogic_hours: float = Field(ge=0, le=1000)
    modules: int = Field(default=1, ge=1)
    project_code: str | None = Field(default=None, max_length=40)


@EVENTS.register
class TrainingSessionHeld(_TrainingEvent):
    """A session took place."""

    event_type: ClassVar[str] = "training.session_held"
    office: Office
    format: TrainingFormat
    region: str = Field(pattern=UBIGEO_PATTERN)
    audiences: list[Audience] = Field(min_length=1)
    held_on: date
    # The funded project, so reach per project needs no join with the scheduling event.
    project_code: str | None = Field(default=None, max_length=40)


@EVENTS.register
class TrainingSessionCancelled(_TrainingEvent):
    """A scheduled session was cancelled."""

    event_type: ClassVar[str] = "training.session_cancelled"
    cancelled_at: datetime


@EVENTS.register
class TrainingAttendanceRecorded(_TrainingEvent):
    """A registered participant attended a session.

    `hours_attended` is the participant's total at this session so far: a later event for
    the same session and participant (more modules attended) replaces the earlier one.
    Distinct reach counts `participant_id` once across sessions.
    """

    event_type: ClassVar[str] = "training.attendance_recorded"
    participant_id: str = Id
    sex: Sex
    audience: Audience
    institution_kind: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[a-z_]+$",
        description="A code of reference.TRAINEE_INSTITUTION_KINDS.",
    )
    role: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[a-z_]+$",
        description="A code of reference.TRAINEE_ROLES.",
    )
    region: str | None = Field(default=None, pattern=UBIGEO_PATTERN)
    hours_attended: float = Field(ge=0, le=1000)


@EVENTS.register
class TrainingHeadcountRecorded(_TrainingEvent):
    """People counted at a session where names were not taken (a talk to 200 adolescents).

    The counts are absolute for that session and audience: a later event for the same
    session and audience replaces the earlier one.
    """

    event_type: ClassVar[str] = "training.headcount_recorded"
    audience: Audience
    female: int = Field(ge=0)
    male: int = Field(ge=0)
    unknown: int = Field(ge=0)


@EVENTS.register
class TrainingAssessmentRecorded(_TrainingEvent):
    """A participant's pre and post test scores (0 to 100); a later event replaces them."""

    event_type: ClassVar[str] = "training.assessment_recorded"
    participant_id: str = Id
    pre_score: float = Field(ge=0, le=100)
    post_score: float = Field(ge=0, le=100)


@EVENTS.register
class TrainingCertificateIssued(_TrainingEvent):
    """A certificate was issued to a participant."""

    event_type: ClassVar[str] = "training.certificate_issued"
    participant_id: str = Id
    certificate_id: str = Id
    hours: float = Field(ge=0)
    issued_on: date


@EVENTS.register
class TrainingAttendanceMoved(_TrainingEvent):
    """A participant's attendance at a session now belongs to another participant (a merge).

    Replaces every earlier attendance, assessment and certificate event of the session for
    `from_participant_id`: they count for `to_participant_id`, whose total at the session
    is now `hours_attended`.
    """

    event_type: ClassVar[str] = "training.attendance_moved"
    from_participant_id: str = Id
    to_participant_id: str = Id
    hours_attended: float = Field(ge=0, le=1000)


# --- the participant registry (keyed by participant id or duplicate id) ----------------

ParticipantField = Literal[
    "given_names",
    "family_names",
    "document_type",
    "document_number",
    "email",
    "phone",
    "sex",
    "audience",
    "institution_kind",
    "role",
    "region",
]
MatchedOn = Literal["document_number", "email"]


class _ParticipantEvent(EventData):
    source: ClassVar[str] = "training"
    participant_id: str = Id


@EVENTS.register
class TrainingParticipantRectified(_ParticipantEvent):
    """Some of a participant's data was corrected: which fields, never their values."""

    event_type: ClassVar[str] = "training.participant_rectified"
    fields: list[ParticipantField] = Field(min_length=1, max_length=11)
    rectified_at: datetime


@EVENTS.register
class TrainingParticipantErased(_ParticipantEvent):
    """A participant's personal data was erased (crypto-shredded); attendance figures stay."""

    event_type: ClassVar[str] = "training.participant_erased"
    erased_at: datetime


@EVENTS.register
class TrainingParticipantMerged(_ParticipantEvent):
    """A duplicate participant was merged into another (its personal data is erased).

    Its attendance moves with `training.attendance_moved` events, one per session.
    """

    event_type: ClassVar[str] = "training.participant_merged"
    merged_into: str = Id
    duplicate_id: str = Id
    merged_at: datetime


class _DuplicateEvent(EventData):
    source: ClassVar[str] = "training"
    duplicate_id: str = Id


@EVENTS.register
class TrainingDuplicateSuspected(_DuplicateEvent):
    """Two participants of different offices share a document number or email.

    Recorded when an office registers a person already registered by an office it cannot
    see: a coordinator decides whether they are one person (merge) or two.
    """

    event_type: ClassVar[str] = "training.participant_duplicate_suspected"
    participant_ids: list[str] = Field(min_length=2, max_length=2)
    matched_on: list[MatchedOn] = Field(min_length=1, max_length=2)


@EVENTS.register
class TrainingDuplicateResolved(_DuplicateEvent):
    """A coordinator merged a suspected duplicate into one participant, or confirmed two."""

    event_type: ClassVar[str] = "training.participant_duplicate_resolved"
    resolution: Literal["merged", "distinct"]
    kept_participant_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")
    resolved_at: datetime
