"""Events published by the referrals service (referrals, consent overrides, return home,
reintegration, webhook failures), keyed by case id. No personal data, no free text."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from ruta_shared.events.envelope import EventData
from ruta_shared.events.registry_default import EVENTS
from ruta_shared.reference import (
    PROJECT_CODE_PATTERN,
    REGION_OR_COUNTRY_PATTERN,
    CareType,
    DeclineReason,
    InstitutionKind,
    Office,
    ReintegrationMilestone,
    RouteInstitutionKind,
    RouteStage,
    Urgency,
)

ID = r"^[A-Za-z0-9_-]+$"
Id = Field(min_length=1, max_length=64, pattern=ID)
Channel = Literal["webhook", "partner_api", "manual"]


class _ReferralEvent(EventData):
    """Every referral event names the referral, its victim and the institution's kind, so a
    consumer needs no join to count referrals by institution kind and outcome."""

    source: ClassVar[str] = "referrals"
    case_id: str = Id
    referral_id: str = Id
    victim_id: str = Id
    institution_id: str = Id
    institution_kind: InstitutionKind
    office: Office


@EVENTS.register
class ReferralRequested(_ReferralEvent):
    """A referral was created (outgoing to an institution, or incoming from one)."""

    event_type: ClassVar[str] = "referral.requested"
    direction: Literal["outgoing", "incoming"]
    services_requested: list[CareType] = Field(default_factory=list)
    urgency: Urgency
    due_on: date | None = None
    consent_override: bool = False
    requested_at: datetime


@EVENTS.register
class ReferralSent(_ReferralEvent):
    """The referral was sent to the institution."""

    event_type: ClassVar[str] = "referral.sent"
    channel: Channel
    sent_at: datetime


@EVENTS.register
class ReferralAcknowledged(_ReferralEvent):
    """The institution acknowledged receipt."""

    event_type: ClassVar[str] = "referral.acknowledged"
    acknowledged_at: datetime


@EVENTS.register
class ReferralAccepted(_ReferralEvent):
    """The institution accepted the referral."""

    event_type: ClassVar[str] = "referral.accepted"
    accepted_at: datetime


@EVENTS.register
class ReferralDeclined(_ReferralEvent):
    """The institution declined the referral, with a reason code."""

    event_type: ClassVar[str] = "referral.declined"
    reason: DeclineReason
    declined_at: datetime


@EVENTS.register
class ReferralCompleted(_ReferralEvent):
    """The institution completed what was requested."""

    event_type: ClassVar[str] = "referral.completed"
    completed_at: datetime


@EVENTS.register
class ReferralProgressReported(_ReferralEvent):
    """Progress on the referral was reported (the note itself stays encrypted in referrals)."""

    event_type: ClassVar[str] = "referral.progress_reported"
    reported_at: datetime


@EVENTS.register
class ReferralRevoked(_ReferralEvent):
    """A coordinator revoked the referral."""

    event_type: ClassVar[str] = "referral.revoked"
    revoked_at: datetime


@EVENTS.register
class ReferralOverdue(_ReferralEvent):
    """The institution did not acknowledge or answer in time."""

    event_type: ClassVar[str] = "referral.overdue"
    stage: Literal["acknowledgement", "answer"]
    due_at: datetime
    detected_at: datetime


@EVENTS.register
class ConsentOverrideGranted(_ReferralEvent):
    """A coordinator allowed a referral without the victim's consent for that institution kind
    (the written justification stays in the referrals service's access log)."""

    event_type: ClassVar[str] = "consent_override.granted"
    granted_at: datetime


@EVENTS.register
class VictimReturnedHome(EventData):
    """A victim returned to their place of origin."""

    event_type: ClassVar[str] = "victim.returned_home"
    source: ClassVar[str] = "referrals"
    case_id: str = Id
    victim_id: str = Id
    office: Office
    region_of_origin: str = Field(pattern=REGION_OR_COUNTRY_PATTERN)
    returned_on: date
    funded: bool
    project_code: str | None = Field(default=None, pattern=PROJECT_CODE_PATTERN)


@EVENTS.register
class ReintegrationMilestoneReached(EventData):
    """A victim reached a reintegration milestone."""

    event_type: ClassVar[str] = "reintegration.milestone_reached"
    source: ClassVar[str] = "referrals"
    case_id: str = Id
    victim_id: str = Id
    office: Office
    milestone: ReintegrationMilestone
    region: str | None = Field(default=None, pattern=REGION_OR_COUNTRY_PATTERN)
    reached_on: date


@EVENTS.register
class WebhookDeliveryFailed(EventData):
    """A webhook delivery to an institution failed after its last retry (dead-lettered)."""

    event_type: ClassVar[str] = "webhook.delivery_failed"
    source: ClassVar[str] = "referrals"
    case_id: str = Id
    referral_id: str = Id
    institution_id: str = Id
    delivery_id: str = Id
    attempts: int = Field(ge=1)
    last_status: int | None = None
    failed_at: datetime


class _RouteStageEvent(EventData):
    """Every route-stage event names the occurrence, its stage and who is responsible, so
    analytics can time each stage per office without a join (codes and dates only)."""

    source: ClassVar[str] = "referrals"
    case_id: str = Id
    stage_occurrence_id: str = Id
    # None: the stage covers every victim of the case
    victim_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID)
    office: Office
    stage: RouteStage
    institution_kind: RouteInstitutionKind
    project_code: str | None = Field(default=None, pattern=PROJECT_CODE_PATTERN)
    entered_on: date


@EVENTS.register
class RouteStageEntered(_RouteStageEvent):
    """A case (or one victim) entered a stage of the protocol's route of care."""

    event_type: ClassVar[str] = "route_stage.entered"
    target_at: datetime | None = None  # when the stage is overdue if still open


@EVENTS.register
class RouteStageLeft(_RouteStageEvent):
    """A case (or one victim) left a stage of the route of care."""

    event_type: ClassVar[str] = "route_stage.left"
    left_on: date
    days_in_stage: int = Field(ge=0)


@EVENTS.register
class RouteStageOverdue(_RouteStageEvent):
    """A stage stayed open past its configured target duration (published once per occurrence)."""

    event_type: ClassVar[str] = "route_stage.overdue"
    target_at: datetime
    overdue_at: datetime


class _CasePlanTaskEvent(EventData):
    """A task of a victim's case plan: codes, the assignee's user id and the due date only
    (a hand-written title stays encrypted in referrals)."""

    source: ClassVar[str] = "referrals"
    case_id: str = Id
    task_id: str = Id
    victim_id: str = Id
    office: Office
    goal: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    task: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")  # template task code or `custom`
    assignee_id: str = Id
    due_on: date


@EVENTS.register
class CasePlanTaskAdded(_CasePlanTaskEvent):
    """A task was added to a victim's plan (from a template or by hand); it starts open."""

    event_type: ClassVar[str] = "case_plan.task_added"


@EVENTS.register
class CasePlanTaskStatusChanged(_CasePlanTaskEvent):
    """A task was marked done or cancelled, or opened again."""

    event_type: ClassVar[str] = "case_plan.task_status_changed"
    from_status: Literal["open", "done", "cancelled"]
    to_status: Literal["open", "done", "cancelled"]
    changed_at: datetime


@EVENTS.register
class CasePlanTaskOverdue(_CasePlanTaskEvent):
    """An open task passed its due day (published once per task)."""

    event_type: ClassVar[str] = "case_plan.task_overdue"
    overdue_at: datetime
