"""The projection's fact builders for training (pure): sessions, and what they hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ruta_shared.events import EventEnvelope
from ruta_shared.events.catalog.training import (
    TrainingAssessmentRecorded,
    TrainingAttendanceMoved,
    TrainingAttendanceRecorded,
    TrainingHeadcountRecorded,
    TrainingSessionCancelled,
    TrainingSessionHeld,
    TrainingSessionScheduled,
)

from ruta_analytics.figures.periods import period_fields
from ruta_analytics.projection.models import (
    ASSESSMENTS,
    ATTENDANCE,
    HEADCOUNTS,
    SESSIONS,
    FactBatch,
    Key,
)

SessionEvent = TrainingSessionScheduled | TrainingSessionHeld | TrainingSessionCancelled


def _pair(left: str, right: str) -> str:
    return f"{left}:{right}"


# --- training ----------------------------------------------------------------------------


def session_keys(event: SessionEvent, _: EventEnvelope) -> list[Key]:
    return [(SESSIONS, event.session_id)]


def session_event(batch: FactBatch, event: SessionEvent, envelope: EventEnvelope) -> None:
    session = batch.guarded(SESSIONS, event.session_id, envelope)
    if session is None:
        return
    if isinstance(event, TrainingSessionScheduled):
        session.update(
            office=event.office,
            format=event.format,
            topics=sorted(event.topics),
            audiences=sorted(event.audiences),
            region=event.region,
            modality=event.modality,
            pedagogic_hours=event.pedagogic_hours,
            project_code=event.project_code,
            starts_on=event.starts_on.isoformat(),
            status="scheduled",
            **period_fields(event.starts_on),
        )
    elif isinstance(event, TrainingSessionHeld):
        session.update(
            office=event.office,
            format=event.format,
            region=event.region,
            audiences=sorted(event.audiences),
            held_on=event.held_on.isoformat(),
            project_code=event.project_code or session.get("project_code"),
            status="held",
            **period_fields(event.held_on),
        )
    else:
        session["status"] = "cancelled"
    batch.put(SESSIONS, session)


Participant = TrainingAttendanceRecorded | TrainingAssessmentRecorded


def participant_keys(collection: str) -> Callable[[Participant, EventEnvelope], list[Key]]:
    def keys(event: Participant, _: EventEnvelope) -> list[Key]:
        return [
            (collection, _pair(event.session_id, event.participant_id)),
            (SESSIONS, event.session_id),
        ]

    return keys


def attendance(
    batch: FactBatch, event: TrainingAttendanceRecorded, envelope: EventEnvelope
) -> None:
    doc_id = _pair(event.session_id, event.participant_id)
    attendance = batch.guarded(ATTENDANCE, doc_id, envelope)
    if attendance is None:
        return
    attendance.update(
        session_id=event.session_id,
        participant_id=event.participant_id,
        sex=event.sex,
        audience=event.audience,
        region=event.region,
        hours_attended=event.hours_attended,
    )
    batch.put(ATTENDANCE, attendance)
    person = {"sex": event.sex, "audience": event.audience, "region": event.region}
    _embed(batch, event.session_id, "att", event.participant_id, person)


def headcount_keys(event: TrainingHeadcountRecorded, _: EventEnvelope) -> list[Key]:
    return [(HEADCOUNTS, _pair(event.session_id, event.audience)), (SESSIONS, event.session_id)]


def headcount(batch: FactBatch, event: TrainingHeadcountRecorded, envelope: EventEnvelope) -> None:
    headcount = batch.guarded(HEADCOUNTS, _pair(event.session_id, event.audience), envelope)
    if headcount is None:
        return
    headcount.update(
        session_id=event.session_id,
        audience=event.audience,
        female=event.female,
        male=event.male,
        unknown=event.unknown,
    )
    batch.put(HEADCOUNTS, headcount)
    people = {"female": event.female, "male": event.male, "unknown": event.unknown}
    _embed(batch, event.session_id, "hc", event.audience, people)


def assessment(
    batch: FactBatch, event: TrainingAssessmentRecorded, envelope: EventEnvelope
) -> None:
    doc_id = _pair(event.session_id, event.participant_id)
    assessment = batch.guarded(ASSESSMENTS, doc_id, envelope)
    if assessment is None:
        return
    assessment.update(
        session_id=event.session_id,
        participant_id=event.participant_id,
        pre_score=event.pre_score,
        post_score=event.post_score,
        gain=round(event.post_score - event.pre_score, 6),
    )
    batch.put(ASSESSMENTS, assessment)
    _embed(batch, event.session_id, "gains", event.participant_id, assessment["gain"])


def _embed(batch: FactBatch, session_id: str, field: str, key: str, value: Any) -> None:
    """Keep a session's attendance, headcounts and test gains on the session too (bounded
    by the session's size), so its counts follow it when it is held, moved or cancelled."""
    session = batch.get(SESSIONS, session_id) or {"_id": session_id}
    entries = dict(session.get(field) or {})
    if entries.get(key) != value:
        entries[key] = value
        batch.put(SESSIONS, {**session, field: entries})


def moved_keys(event: TrainingAttendanceMoved, _: EventEnvelope) -> list[Key]:
    return [
        (SESSIONS, event.session_id),
        (ATTENDANCE, _pair(event.session_id, event.from_participant_id)),
        (ASSESSMENTS, _pair(event.session_id, event.from_participant_id)),
    ]


def attendance_moved(
    batch: FactBatch, event: TrainingAttendanceMoved, envelope: EventEnvelope
) -> None:
    """A merge of two participants: the session's attendance (and test gain) of the one
    merged away counts for the one kept, so a person attending as both counts once."""
    source = batch.guarded(ATTENDANCE, _pair(event.session_id, event.from_participant_id), envelope)
    if source is None:
        return
    batch.put(ATTENDANCE, {**source, "moved_to": event.to_participant_id})
    session = batch.get(SESSIONS, event.session_id) or {"_id": event.session_id}
    moved = dict(session)
    for field in ("att", "gains"):
        entries = dict(session.get(field) or {})
        value = entries.pop(event.from_participant_id, None)
        if value is not None:
            entries.setdefault(event.to_participant_id, value)
        moved[field] = entries
    if moved != session:
        batch.put(SESSIONS, moved)
