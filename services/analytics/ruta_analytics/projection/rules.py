"""The projection's fact builders, as pure logic: one typed event in, fact documents out.

Each builder takes the batch, the event's typed payload and its envelope, and changes the
documents the event is about; the matching `*_keys` function names those documents so they
are loaded first. `handlers.EVENT_HANDLERS` pairs them by payload class. Figures are computed
from facts on read, so totals always equal the sum of their parts and a rebuild gives the
same documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from ruta_shared.events import EventData, EventEnvelope
from ruta_shared.events.catalog.intake import (
    CareProvided,
    CaseClosed,
    CaseDetailsUpdated,
    CaseOpened,
    CaseProjectAssigned,
    CaseReopened,
    CaseStatusChanged,
    VictimRegistered,
)
from ruta_shared.events.catalog.referrals import (
    ConsentOverrideGranted,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralCompleted,
    ReferralDeclined,
    ReferralOverdue,
    ReferralRequested,
    ReferralRevoked,
    ReferralSent,
    ReintegrationMilestoneReached,
    VictimReturnedHome,
)
from ruta_shared.events.catalog.training import (
    TrainingSessionCancelled,
    TrainingSessionHeld,
    TrainingSessionScheduled,
)
from ruta_shared.lima import lima_date

from ruta_analytics.figures.periods import parse_stamp, period_fields, stamp
from ruta_analytics.projection.corrections import victim_attributes
from ruta_analytics.projection.models import (
    CARE,
    CASES,
    MILESTONES,
    PENDING,
    REFERRALS,
    RETURNS,
    VICTIMS,
    FactBatch,
    Key,
)

CaseEvent = (
    CaseOpened
    | CaseStatusChanged
    | CaseClosed
    | CaseReopened
    | CaseDetailsUpdated
    | CaseProjectAssigned
)
ReferralEvent = (
    ReferralRequested
    | ReferralSent
    | ReferralAcknowledged
    | ReferralAccepted
    | ReferralDeclined
    | ReferralCompleted
    | ReferralRevoked
    | ReferralOverdue
    | ConsentOverrideGranted
)
SessionEvent = TrainingSessionScheduled | TrainingSessionHeld | TrainingSessionCancelled

# The payload field holding the moment of each referral event.
REFERRAL_STAMPS: Final[Mapping[type[EventData], str]] = {
    ReferralRequested: "requested_at",
    ReferralSent: "sent_at",
    ReferralAcknowledged: "acknowledged_at",
    ReferralAccepted: "accepted_at",
    ReferralDeclined: "declined_at",
    ReferralCompleted: "completed_at",
    ReferralRevoked: "revoked_at",
    ReferralOverdue: "detected_at",
    ConsentOverrideGranted: "granted_at",
}
REFERRAL_OUTCOME: Final[Mapping[type[EventData], str]] = {
    ReferralRequested: "pending",
    ReferralAccepted: "accepted",
    ReferralDeclined: "declined",
    ReferralCompleted: "completed",
    ReferralRevoked: "revoked",
}


def _pair(left: str, right: str) -> str:
    return f"{left}:{right}"


# --- intake ------------------------------------------------------------------------------


def case_keys(event: CaseEvent, _: EventEnvelope) -> list[Key]:
    return [(CASES, event.case_id), (PENDING, event.case_id)]


def case_event(batch: FactBatch, event: CaseEvent, envelope: EventEnvelope) -> None:
    case = batch.guarded(CASES, event.case_id, envelope)
    if case is None:
        batch.settle_pending(event.case_id)
        if isinstance(event, CaseDetailsUpdated | CaseProjectAssigned):
            batch.refresh_dependents(event.case_id)  # a crash may have stopped it halfway
        return
    if isinstance(event, CaseOpened):
        case.update(
            opened=True,
            office=event.office,
            **_details(event),
            opened_at=stamp(event.opened_at),
            status="open",
            **period_fields(lima_date(event.opened_at)),
        )
    elif isinstance(event, CaseDetailsUpdated):
        case.update(**_details(event), details_updated_at=stamp(event.updated_at))
    elif isinstance(event, CaseProjectAssigned):
        case["project_code"] = event.project_code
    elif isinstance(event, CaseStatusChanged):
        case["status"] = event.to_status
    elif isinstance(event, CaseClosed):
        case.update(
            status="closed", closed_at=stamp(event.closed_at), closure_reason=event.closure_reason
        )
    else:
        case.update(status="open", reopened_at=stamp(event.reopened_at))
    batch.put(CASES, case)
    batch.settle_pending(event.case_id)
    if isinstance(event, CaseDetailsUpdated | CaseProjectAssigned):
        batch.refresh_dependents(event.case_id)


def _details(event: CaseOpened | CaseDetailsUpdated) -> dict[str, Any]:
    """The case's details as opened or as corrected (what the figures and filters use)."""
    return {
        "crime_types": sorted(event.crime_types),
        "exploitation_purposes": sorted(event.exploitation_purposes),
        "region_of_exploitation": event.region_of_exploitation,
        "arrival_channel": event.arrival_channel,
        "referring_institution_kind": event.referring_institution_kind,
    }


def case_dependent(
    collection: str, doc_id: Callable[[Any, EventEnvelope], str]
) -> Callable[[Any, EventEnvelope], list[Key]]:
    """The keys of a fact that copies its case's attributes (and may wait for its case)."""

    def keys(event: Any, envelope: EventEnvelope) -> list[Key]:
        return [
            (collection, doc_id(event, envelope)),
            (CASES, event.case_id),
            (PENDING, event.case_id),
        ]

    return keys


def victim_registered(batch: FactBatch, event: VictimRegistered, envelope: EventEnvelope) -> None:
    attributes = batch.case_attributes(event.case_id, (VICTIMS, event.victim_id))
    victim = batch.guarded(VICTIMS, event.victim_id, envelope)
    if victim is None:
        return
    victim.setdefault("duplicate_of", None)
    victim.update(
        case_id=event.case_id,
        office=event.office,
        **victim_attributes(event),
        registered_at=stamp(event.registered_at),
        **period_fields(lima_date(event.registered_at)),
        **attributes,
    )
    batch.put(VICTIMS, victim)


def care_provided(batch: FactBatch, event: CareProvided, envelope: EventEnvelope) -> None:
    attributes = batch.case_attributes(event.case_id, (CARE, event.care_id))
    care = batch.guarded(CARE, event.care_id, envelope)
    if care is None:
        return
    care.update(
        case_id=event.case_id,
        victim_id=event.victim_id,
        office=event.office,
        care_type=event.care_type,
        project_code=event.project_code,
        **period_fields(event.provided_on),
        **attributes,
    )
    batch.put(CARE, care)


# --- referrals ---------------------------------------------------------------------------


def referral_event(batch: FactBatch, event: ReferralEvent, envelope: EventEnvelope) -> None:
    attributes = batch.case_attributes(event.case_id, (REFERRALS, event.referral_id))
    referral = batch.guarded(REFERRALS, event.referral_id, envelope)
    if referral is None:
        return
    moment: datetime = getattr(event, REFERRAL_STAMPS[type(event)])
    referral.update(
        case_id=event.case_id,
        victim_id=event.victim_id,
        institution_id=event.institution_id,
        institution_kind=event.institution_kind,
        office=event.office,
        **attributes,
    )
    referral.setdefault("outcome", "pending")
    referral.setdefault("accepted_ever", False)
    referral.setdefault("overdue", False)
    requested = isinstance(event, ReferralRequested)
    if "year" not in referral or requested:
        referral.update(period_fields(lima_date(moment)))
    if isinstance(event, ReferralRequested):
        due_on = event.due_on.isoformat() if event.due_on is not None else None
        referral.update(direction=event.direction, urgency=event.urgency, due_on=due_on)
    if isinstance(event, ReferralOverdue):
        referral.update(overdue=True, overdue_stage=event.stage)
    elif isinstance(event, ConsentOverrideGranted):
        referral["consent_override"] = True
    else:
        referral[REFERRAL_STAMPS[type(event)]] = stamp(moment)
    if type(event) in REFERRAL_OUTCOME:
        referral["outcome"] = REFERRAL_OUTCOME[type(event)]
    accepted = isinstance(event, ReferralAccepted | ReferralCompleted)
    if accepted and not referral["accepted_ever"]:
        referral["accepted_ever"] = True
        since = referral.get("sent_at") or referral.get("requested_at")
        if since is not None:
            seconds = (moment - parse_stamp(since)).total_seconds()
            referral["days_to_acceptance"] = round(max(seconds, 0.0) / 86400, 6)
            referral["whole_days_to_acceptance"] = int(max(seconds, 0.0) // 86400)
    batch.put(REFERRALS, referral)


def returned_home(batch: FactBatch, event: VictimReturnedHome, envelope: EventEnvelope) -> None:
    batch.put(
        RETURNS,
        {
            "_id": str(envelope.id),
            "case_id": event.case_id,
            "victim_id": event.victim_id,
            "office": event.office,
            "region_of_origin": event.region_of_origin,
            "funded": event.funded,
            "project_code": event.project_code,
            **period_fields(event.returned_on),
            **batch.case_attributes(event.case_id, (RETURNS, str(envelope.id))),
        },
    )


def milestone(
    batch: FactBatch, event: ReintegrationMilestoneReached, envelope: EventEnvelope
) -> None:
    batch.put(
        MILESTONES,
        {
            "_id": str(envelope.id),
            "case_id": event.case_id,
            "victim_id": event.victim_id,
            "office": event.office,
            "milestone": event.milestone,
            "region": event.region,
            **period_fields(event.reached_on),
            **batch.case_attributes(event.case_id, (MILESTONES, str(envelope.id))),
        },
    )
