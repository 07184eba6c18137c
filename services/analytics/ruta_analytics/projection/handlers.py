"""Typed dispatch of events to the projection: one handler per payload class, registered once.

`EVENT_HANDLERS` maps each payload class to the `Handler` that says which documents the event
reads or writes (`keys`, loaded before the batch is applied) and how it changes them
(`apply`), like cosmicpython's EVENT_HANDLERS. Events of other classes only get their audit
entry. Pure logic: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from ruta_shared.events import EVENTS, EventData, EventEnvelope, UnknownEventTypeError
from ruta_shared.events.catalog.intake import (
    CareProvided,
    CaseClosed,
    CaseDetailsUpdated,
    CaseOpened,
    CaseProjectAssigned,
    CaseReopened,
    CaseStatusChanged,
    VictimAttributesCorrected,
    VictimDuplicateResolved,
    VictimRegistered,
)
from ruta_shared.events.catalog.referrals import (
    CasePlanTaskAdded,
    CasePlanTaskOverdue,
    CasePlanTaskStatusChanged,
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
    RouteStageEntered,
    RouteStageLeft,
    RouteStageOverdue,
    VictimReturnedHome,
)
from ruta_shared.events.catalog.training import (
    TrainingAssessmentRecorded,
    TrainingAttendanceMoved,
    TrainingAttendanceRecorded,
    TrainingHeadcountRecorded,
    TrainingSessionCancelled,
    TrainingSessionHeld,
    TrainingSessionScheduled,
)

from ruta_analytics.audit.rules import GENESIS, build_entry, chain_id
from ruta_analytics.projection import corrections, route, rules, training
from ruta_analytics.projection.models import (
    ASSESSMENTS,
    ATTENDANCE,
    AUDIT,
    AUDIT_HEADS,
    CARE,
    MILESTONES,
    REFERRALS,
    RETURNS,
    STAGES,
    TASKS,
    VICTIMS,
    Document,
    FactBatch,
    Key,
)

P = TypeVar("P", bound=EventData)


@dataclass(frozen=True)
class Handler(Generic[P]):
    """What one payload class does to the facts."""

    keys: Callable[[P, EventEnvelope], list[Key]]  # the documents it reads or writes
    apply: Callable[[FactBatch, P, EventEnvelope], None]


def payload_of(envelope: EventEnvelope) -> EventData | None:
    """The typed payload of an event the projection handles (None for the others)."""
    try:
        model = EVENTS.model_for(envelope.type, envelope.version)
    except UnknownEventTypeError:
        return None  # still audited; the consumer only lets known types through anyway
    if model not in EVENT_HANDLERS:
        return None
    # Validated: InvalidEventError (naming fields, never values) when the data does not fit.
    return EVENTS.payload(envelope)


def needed(envelope: EventEnvelope, *, audit: bool = True) -> list[Key]:
    """The documents an event reads or writes (loaded before the batch is applied)."""
    keys: list[Key] = []
    if audit:
        keys += [(AUDIT, str(envelope.id)), (AUDIT_HEADS, chain_id(envelope))]
    payload = payload_of(envelope)
    if payload is not None:
        keys += EVENT_HANDLERS[type(payload)].keys(payload, envelope)
    return keys


def apply_event(batch: FactBatch, envelope: EventEnvelope) -> None:
    """Apply one event to a batch: its audit entry first, then its facts."""
    batch.handled[envelope.type] = batch.handled.get(envelope.type, 0) + 1
    if batch.audit:
        _append_audit_entry(batch, envelope)
    payload = payload_of(envelope)
    if payload is not None:
        EVENT_HANDLERS[type(payload)].apply(batch, payload, envelope)


def _append_audit_entry(batch: FactBatch, envelope: EventEnvelope) -> None:
    chain = chain_id(envelope)
    head = batch.get(AUDIT_HEADS, chain)
    existing = batch.get(AUDIT, str(envelope.id))
    if existing is not None:
        # Already in the trail (a redelivery): make sure the head covers it, nothing else.
        if head is None or head["position"] < existing["position"]:
            batch.put(AUDIT_HEADS, _head(chain, existing, head))
        return
    position = 1 + (head["position"] if head else 0)
    entry = build_entry(envelope, position=position, prev_hash=head["hash"] if head else GENESIS)
    batch.docs[(AUDIT, entry["_id"])] = entry
    batch.inserts.append(entry)
    batch.put(AUDIT_HEADS, _head(chain, entry, head))


def _head(chain: str, entry: Document, head: Document | None) -> Document:
    """The chain's head after `entry`; it lists the chain's entry ids by position, so that a
    trail is read by `_id` (a repaired head may list "" for a place a later redelivery fills)."""
    ids = list(head.get("entries", [])) if head else []
    ids += [""] * (entry["position"] - len(ids))
    ids[entry["position"] - 1] = entry["_id"]
    return {
        "_id": chain,
        "trail": entry["trail"],
        "position": entry["position"],
        "hash": entry["hash"],
        "entries": ids,
    }


# --- the registry --------------------------------------------------------------------------


def on(model: type[P], handler: Handler[P]) -> tuple[type[EventData], Handler[Any]]:
    """One registration: a payload class and its handler (their types checked together)."""
    return model, handler


def registry(
    *entries: tuple[type[EventData], Handler[Any]],
) -> dict[type[EventData], Handler[Any]]:
    """The handlers by payload class; a class registered twice is a programming error."""
    handlers: dict[type[EventData], Handler[Any]] = {}
    for model, handler in entries:
        if model in handlers:
            msg = f"{model.__name__} has two projection handlers"
            raise ValueError(msg)
        handlers[model] = handler
    return handlers


_CASE: Final = Handler(rules.case_keys, rules.case_event)
_REFERRAL: Final = Handler(
    rules.case_dependent(REFERRALS, lambda e, _: e.referral_id), rules.referral_event
)
_SESSION: Final = Handler(training.session_keys, training.session_event)
_STAGE: Final = Handler(
    rules.case_dependent(STAGES, lambda e, _: e.stage_occurrence_id), route.stage_event
)
_TASK: Final = Handler(rules.case_dependent(TASKS, lambda e, _: e.task_id), route.task_event)


def _by_event_id(_: EventData, envelope: EventEnvelope) -> str:
    return str(envelope.id)


EVENT_HANDLERS: Final = registry(
    on(CaseOpened, _CASE),
    on(CaseStatusChanged, _CASE),
    on(CaseClosed, _CASE),
    on(CaseReopened, _CASE),
    on(CaseDetailsUpdated, _CASE),
    on(CaseProjectAssigned, _CASE),
    on(
        VictimAttributesCorrected,
        Handler(lambda e, _: [(VICTIMS, e.victim_id)], corrections.attributes_corrected),
    ),
    on(
        VictimDuplicateResolved, Handler(corrections.duplicate_keys, corrections.duplicate_resolved)
    ),
    on(
        VictimRegistered,
        Handler(rules.case_dependent(VICTIMS, lambda e, _: e.victim_id), rules.victim_registered),
    ),
    on(
        CareProvided,
        Handler(rules.case_dependent(CARE, lambda e, _: e.care_id), rules.care_provided),
    ),
    on(ReferralRequested, _REFERRAL),
    on(ReferralSent, _REFERRAL),
    on(ReferralAcknowledged, _REFERRAL),
    on(ReferralAccepted, _REFERRAL),
    on(ReferralDeclined, _REFERRAL),
    on(ReferralCompleted, _REFERRAL),
    on(ReferralRevoked, _REFERRAL),
    on(ReferralOverdue, _REFERRAL),
    on(ConsentOverrideGranted, _REFERRAL),
    on(
        VictimReturnedHome,
        Handler(rules.case_dependent(RETURNS, _by_event_id), rules.returned_home),
    ),
    on(
        ReintegrationMilestoneReached,
        Handler(rules.case_dependent(MILESTONES, _by_event_id), rules.milestone),
    ),
    on(RouteStageEntered, _STAGE),
    on(RouteStageLeft, _STAGE),
    on(RouteStageOverdue, _STAGE),
    on(CasePlanTaskAdded, _TASK),
    on(CasePlanTaskStatusChanged, _TASK),
    on(CasePlanTaskOverdue, _TASK),
    on(TrainingSessionScheduled, _SESSION),
    on(TrainingSessionHeld, _SESSION),
    on(TrainingSessionCancelled, _SESSION),
    on(
        TrainingAttendanceRecorded,
        Handler(training.participant_keys(ATTENDANCE), training.attendance),
    ),
    on(TrainingAttendanceMoved, Handler(training.moved_keys, training.attendance_moved)),
    on(TrainingHeadcountRecorded, Handler(training.headcount_keys, training.headcount)),
    on(
        TrainingAssessmentRecorded,
        Handler(training.participant_keys(ASSESSMENTS), training.assessment),
    ),
)
