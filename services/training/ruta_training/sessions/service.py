"""The session aggregate: scheduling, status, and everything recorded on it through its outbox.

Attendance, head counts, assessments and certificates are events of the session, so they
live in the session document (maps keyed by participant id or audience) and every change
is one atomic update of that document together with its events. Concurrent writers are
serialised by the document's event sequence (`_seq`): a writer that lost the race reads
again and re-plans, so repeats are no-ops and nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from ruta_shared.api import FieldError, PageParams, problem, version_conflict
from ruta_shared.events import EventData
from ruta_shared.events.catalog.training import (
    TrainingAssessmentRecorded,
    TrainingAttendanceRecorded,
    TrainingHeadcountRecorded,
    TrainingSessionCancelled,
    TrainingSessionHeld,
    TrainingSessionScheduled,
)
from ruta_shared.outbox import OUTBOX_FIELD, PENDING_FIELD, SEQUENCE_FIELD, ConcurrencyConflictError
from ruta_shared.security.permissions import OFFICE_SCOPE, ensure_office_scope
from ruta_shared.security.principal import Principal
from ruta_shared.service import ServiceContext
from uuid6 import uuid7

from ruta_training.models import (
    AttendanceRead,
    HeadcountRead,
    HeadcountSet,
    ModuleRead,
    SessionCreate,
    SessionRead,
)
from ruta_training.rules import (
    STATUS_LABELS,
    RuleError,
    accepts_attendance,
    attended_hours,
    can_transition,
    default_certificate_min_hours,
    merge_attendance,
    summarise_assessments,
)
from ruta_training.settings import TrainingSettings
from ruta_training.store import SESSIONS

log = logging.getLogger(__name__)

Document = dict[str, Any]
HIDDEN = {OUTBOX_FIELD: 0, PENDING_FIELD: 0}


@dataclass
class Change:
    """What a plan wants written: an update and its events (none: nothing to write)."""

    update: dict[str, dict[str, Any]] = field(default_factory=dict)
    payloads: list[EventData] = field(default_factory=list)
    result: Any = None


Plan = Callable[[Document], Change]


def sessions(context: ServiceContext) -> AsyncCollection[Document]:
    """The sessions collection."""
    return context.db[SESSIONS]


def rule_error(error: RuleError) -> FieldError:
    """A refused domain rule as a 422 naming the field."""
    return FieldError(error.field, error.message)


def visible_offices(principal: Principal) -> list[str] | None:
    """The offices whose sessions the caller sees (None: all)."""
    if OFFICE_SCOPE.get(principal.role) == "all":
        return None
    if OFFICE_SCOPE.get(principal.role) == "own":
        return sorted(principal.offices)
    return []


async def load_session(context: ServiceContext, session_id: str, principal: Principal) -> Document:
    """The session document; 404 when missing or outside the caller's offices."""
    doc = await sessions(context).find_one({"_id": session_id}, HIDDEN)
    if doc is None:
        raise problem(404, "No encontrado.")
    ensure_office_scope(principal, doc["office"])
    return doc


async def change_session(
    *,
    context: ServiceContext,
    session_id: str,
    principal: Principal,
    plan: Plan,
    expected_version: int | None = None,
) -> Any:
    """Read the session, plan a change, write it with its events; re-plan when raced.

    With `expected_version` (the client's If-Match) a concurrent change is the client's
    problem: 412 instead of a retry.
    """
    attempts = _settings(context).session_write_attempts
    for attempt in range(attempts):
        doc = await load_session(context, session_id, principal)
        if expected_version is not None and doc[SEQUENCE_FIELD] != expected_version:
            raise version_conflict()
        change = plan(doc)
        if not change.payloads:
            return change.result
        try:
            await context.outbox.update(
                sessions(context),
                doc_id=session_id,
                expected_sequence=doc[SEQUENCE_FIELD],
                update=change.update,
                subject=session_id,
                payloads=change.payloads,
                actor=principal.actor,
            )
        except ConcurrencyConflictError:
            if expected_version is not None:
                raise version_conflict() from None
            # Someone else wrote first: back off a little (jittered) and re-plan on fresh data.
            await asyncio.sleep(secrets.randbelow(20 * (attempt + 1)) / 1000)
            continue
        return change.result
    log.warning("session write gave up after retries", extra={"session_id": session_id})
    raise problem(409, "La sesión está recibiendo muchos cambios a la vez: vuelva a intentarlo.")


def _settings(context: ServiceContext) -> TrainingSettings:
    settings = context.settings
    assert isinstance(settings, TrainingSettings)
    return settings


def _module_hours(doc: Document) -> list[float]:
    return [float(m["hours"]) for m in doc.get("modules", [])]


def ensure_accepts_records(doc: Document) -> None:
    if not accepts_attendance(doc["status"]):
        raise problem(409, f"La sesión está {STATUS_LABELS[doc['status']]}: no admite registros.")


# --- scheduling and status -------------------------------------------------------------


async def schedule(
    *, context: ServiceContext, principal: Principal, body: SessionCreate
) -> Document:
    """Schedule a session (training.session_scheduled); returns the stored document."""
    ensure_office_scope(principal, body.office)
    if body.ends_on < body.starts_on:
        raise FieldError("ends_on", "no puede ser anterior a la fecha de inicio")
    if body.modality == "in_person" and not body.venue:
        raise FieldError("venue", "indique el lugar de una sesión presencial")
    if body.modules and round(sum(m.hours for m in body.modules), 2) != round(
        body.pedagogic_hours, 2
    ):
        raise FieldError("modules", "las horas de los módulos deben sumar las horas pedagógicas")
    if body.certificate_min_hours is not None and body.certificate_min_hours > body.pedagogic_hours:
        raise FieldError("certificate_min_hours", "supera las horas pedagógicas de la sesión")
    session_id = str(uuid7())
    min_hours = body.certificate_min_hours
    if min_hours is None:
        min_hours = default_certificate_min_hours(
            body.pedagogic_hours, _settings(context).certificate_min_attendance_ratio
        )
    document: Document = {
        "_id": session_id,
        **body.model_dump(mode="json", exclude={"modules", "certificate_min_hours"}),
        "modules": [
            {"number": n, "title": m.title, "hours": m.hours}
            for n, m in enumerate(body.modules, start=1)
        ],
        "certificate_min_hours": min_hours,
        "status": "scheduled",
        "held_on": None,
        "cancelled_at": None,
        "cancel_reason": None,
        "attendance": {},
        "headcounts": {},
        "assessments": {},
        "certificates": {},
        "created_at": datetime.now(UTC),
        "created_by": principal.id,
    }
    event = TrainingSessionScheduled(
        session_id=session_id,
        office=body.office,
        format=body.format,
        topics=body.topics,
        audiences=body.audiences,
        region=body.region,
        modality=body.modality,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        pedagogic_hours=body.pedagogic_hours,
        modules=max(1, len(body.modules)),
        project_code=body.project_code,
    )
    await context.outbox.insert(
        sessions(context), document, subject=session_id, payloads=[event], actor=principal.actor
    )
    document[SEQUENCE_FIELD] = 1
    return document


async def hold(
    *,
    context: ServiceContext,
    principal: Principal,
    session_id: str,
    held_on: date | None,
    expected_version: int,
) -> Document:
    """Mark a scheduled session as held (training.session_held)."""

    def plan(doc: Document) -> Change:
        if not can_transition(doc["status"], "held"):
            raise problem(409, f"La sesión está {STATUS_LABELS[doc['status']]}.")
        day = held_on or date.fromisoformat(doc["ends_on"])
        if day < date.fromisoformat(doc["starts_on"]):
            raise FieldError("held_on", "no puede ser anterior a la fecha de inicio")
        event = TrainingSessionHeld(
            session_id=session_id,
            office=doc["office"],
            format=doc["format"],
            region=doc["region"],
            audiences=doc["audiences"],
            held_on=day,
        )
        return Change({"$set": {"status": "held", "held_on": day.isoformat()}}, [event])

    await change_session(
        context=context,
        session_id=session_id,
        principal=principal,
        plan=plan,
        expected_version=expected_version,
    )
    return await load_session(context, session_id, principal)


async def cancel(
    *,
    context: ServiceContext,
    principal: Principal,
    session_id: str,
    reason: str | None,
    expected_version: int,
) -> Document:
    """Cancel a scheduled session that has nothing recorded (training.session_cancelled)."""

    def plan(doc: Document) -> Change:
        if not can_transition(doc["status"], "cancelled"):
            raise problem(409, f"La sesión está {STATUS_LABELS[doc['status']]}.")
        if doc.get("attendance") or doc.get("headcounts"):
            raise problem(409, "La sesión ya tiene asistencia registrada: no se puede cancelar.")
        now = datetime.now(UTC)
        event = TrainingSessionCancelled(session_id=session_id, cancelled_at=now)
        update = {"$set": {"status": "cancelled", "cancelled_at": now, "cancel_reason": reason}}
        return Change(update, [event])

    await change_session(
        context=context,
        session_id=session_id,
        principal=principal,
        plan=plan,
        expected_version=expected_version,
    )
    return await load_session(context, session_id, principal)


async def list_sessions(
    *,
    context: ServiceContext,
    principal: Principal,
    page: PageParams,
    status: str | None,
    office: str | None,
    starts_from: date | None,
    starts_to: date | None,
) -> tuple[list[Document], int]:
    """Sessions the caller may see, newest first."""
    query: dict[str, Any] = {}
    offices = visible_offices(principal)
    if offices is not None:
        query["office"] = {"$in": offices}
    if office is not None:
        if offices is not None and office not in offices:
            return [], 0
        query["office"] = office
    if status is not None:
        query["status"] = status
    if starts_from is not None or starts_to is not None:
        bounds: dict[str, str] = {}
        if starts_from is not None:
            bounds["$gte"] = starts_from.isoformat()
        if starts_to is not None:
            bounds["$lte"] = starts_to.isoformat()
        query["starts_on"] = bounds
    total = await sessions(context).count_documents(query)
    docs = await (
        sessions(context)
        .find(query, HIDDEN, sort=[("starts_on", -1), ("_id", -1)])
        .skip(page.offset)
        .limit(page.limit)
        .to_list()
    )
    return docs, total


def to_read(doc: Document) -> SessionRead:
    """The API view of a session document."""
    headcount_total = sum(
        int(c.get("female", 0)) + int(c.get("male", 0)) + int(c.get("unknown", 0))
        for c in doc.get("headcounts", {}).values()
    )
    scores = [(float(a["pre"]), float(a["post"])) for a in doc.get("assessments", {}).values()]
    return SessionRead(
        id=doc["_id"],
        office=doc["office"],
        title=doc["title"],
        format=doc["format"],
        topics=doc["topics"],
        audiences=doc["audiences"],
        region=doc["region"],
        modality=doc["modality"],
        venue=doc.get("venue"),
        starts_on=doc["starts_on"],
        ends_on=doc["ends_on"],
        pedagogic_hours=doc["pedagogic_hours"],
        modules=[ModuleRead(**m) for m in doc.get("modules", [])],
        project_code=doc.get("project_code"),
        funder=doc.get("funder"),
        certificate_min_hours=doc["certificate_min_hours"],
        status=doc["status"],
        held_on=doc.get("held_on"),
        cancelled_at=doc.get("cancelled_at"),
        attendance_count=len(doc.get("attendance", {})),
        headcount_total=headcount_total,
        certificates_count=len(doc.get("certificates", {})),
        assessment=summarise_assessments(scores),
        version=doc[SEQUENCE_FIELD],
    )


# --- attendance, assessments, head counts -----------------------------------------------


@dataclass(frozen=True)
class AttendanceInput:
    """One participant's attendance to record, with their attributes at that time."""

    participant_id: str
    attributes: dict[str, Any]  # sex, audience, institution_kind, role, region
    hours: float | None = None
    modules: Sequence[int] | None = None


@dataclass(frozen=True)
class ScoreInput:
    """One participant's pre and post test scores."""

    participant_id: str
    pre: float
    post: float


@dataclass
class ParticipationOutcome:
    """Per input, what happened: created, updated or unchanged."""

    attendance: list[AttendanceRead]
    scores: list[str]  # "created" | "updated" | "unchanged" per score input


async def record_participation(
    *,
    context: ServiceContext,
    principal: Principal,
    session_id: str,
    attendances: Sequence[AttendanceInput],
    scores: Sequence[ScoreInput] = (),
) -> ParticipationOutcome:
    """Record attendance (and test scores) in one atomic update of the session.

    Repeats are no-ops: an attendance already recorded with the same hours publishes no
    event, so a sheet uploaded twice counts nobody twice.
    """

    def plan(doc: Document) -> Change:
        ensure_accepts_records(doc)
        module_hours = _module_hours(doc)
        recorded: dict[str, Any] = dict(doc.get("attendance", {}))
        assessments: dict[str, Any] = doc.get("assessments", {})
        sets: dict[str, Any] = {}
        payloads: list[EventData] = []
        reads: list[AttendanceRead] = []
        now = datetime.now(UTC)
        for item in attendances:
            try:
                hours, modules = attended_hours(
                    pedagogic_hours=float(doc["pedagogic_hours"]),
                    module_hours=module_hours,
                    hours=item.hours,
                    modules=item.modules,
                )
            except RuleError as error:
                raise rule_error(error) from None
            existing = recorded.get(item.participant_id)
            merged = merge_attendance(existing, hours, modules, module_hours)
            if merged is None:
                assert existing is not None
                reads.append(_attendance_read(item.participant_id, existing, "unchanged"))
                continue
            total, all_modules = merged
            attributes = _attendance_attributes(doc, item.attributes)
            entry = {**attributes, "hours": total, "modules": all_modules, "recorded_at": now}
            recorded[item.participant_id] = entry
            sets[f"attendance.{item.participant_id}"] = entry
            payloads.append(
                TrainingAttendanceRecorded(
                    session_id=session_id,
                    participant_id=item.participant_id,
                    hours_attended=total,
                    **attributes,
                )
            )
            outcome = "created" if existing is None else "updated"
            reads.append(_attendance_read(item.participant_id, entry, outcome))
        score_outcomes: list[str] = []
        for score in scores:
            if score.participant_id not in recorded:
                raise FieldError("participant_id", "no tiene asistencia registrada en la sesión")
            old = assessments.get(score.participant_id)
            if old is not None and (float(old["pre"]), float(old["post"])) == (
                score.pre,
                score.post,
            ):
                score_outcomes.append("unchanged")
                continue
            sets[f"assessments.{score.participant_id}"] = {"pre": score.pre, "post": score.post}
            payloads.append(
                TrainingAssessmentRecorded(
                    session_id=session_id,
                    participant_id=score.participant_id,
                    pre_score=score.pre,
                    post_score=score.post,
                )
            )
            score_outcomes.append("created" if old is None else "updated")
        update = {"$set": sets} if sets else {}
        return Change(update, payloads, ParticipationOutcome(reads, score_outcomes))

    result: ParticipationOutcome = await change_session(
        context=context, session_id=session_id, principal=principal, plan=plan
    )
    return result


def _attendance_attributes(doc: Document, attributes: dict[str, Any]) -> dict[str, Any]:
    """The attendance's non-identifying attributes; audience defaults to the session's first."""
    return {
        "sex": attributes.get("sex") or "unknown",
        "audience": attributes.get("audience") or doc["audiences"][0],
        "institution_kind": attributes.get("institution_kind"),
        "role": attributes.get("role"),
        "region": attributes.get("region"),
    }


def _attendance_read(participant_id: str, entry: Document, outcome: str | None) -> AttendanceRead:
    return AttendanceRead(
        participant_id=participant_id,
        hours_attended=entry["hours"],
        modules_attended=entry.get("modules", []),
        sex=entry["sex"],
        audience=entry["audience"],
        institution_kind=entry.get("institution_kind"),
        role=entry.get("role"),
        region=entry.get("region"),
        recorded=outcome,
    )


def attendance_of(doc: Document) -> list[AttendanceRead]:
    """Every attendance of a session, by participant id."""
    return [_attendance_read(pid, entry, None) for pid, entry in sorted(doc["attendance"].items())]


async def set_headcount(
    *,
    context: ServiceContext,
    principal: Principal,
    session_id: str,
    audience: str,
    counts: HeadcountSet,
) -> HeadcountRead:
    """Set the head count of one audience (training.headcount_recorded; same numbers: no-op)."""
    values = counts.model_dump()

    def plan(doc: Document) -> Change:
        ensure_accepts_records(doc)
        read = HeadcountRead(audience=audience, total=sum(values.values()), **values)
        if doc.get("headcounts", {}).get(audience) == values:
            return Change(result=read)
        event = TrainingHeadcountRecorded(session_id=session_id, audience=audience, **values)
        return Change({"$set": {f"headcounts.{audience}": values}}, [event], read)

    result: HeadcountRead = await change_session(
        context=context, session_id=session_id, principal=principal, plan=plan
    )
    return result


def headcounts_of(doc: Document) -> list[HeadcountRead]:
    """A session's head counts, by audience."""
    return [
        HeadcountRead(audience=audience, total=sum(c.values()), **c)
        for audience, c in sorted(doc.get("headcounts", {}).items())
    ]
