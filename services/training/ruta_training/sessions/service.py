"""The session aggregate: scheduling, status, and everything recorded on it through its outbox.

Attendance, head counts, assessments and certificates are events of the session, so they
live in the session document (maps keyed by participant id or audience) and every change
is one atomic update of that document together with its events, through the session
`Aggregates` of the runtime: a writer that lost the race reads again and re-plans (the
plans are in `rules.py`), so repeats are no-ops and nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from ruta_shared.aggregate import HIDDEN_FIELDS, ApplyFn, T
from ruta_shared.api import PageParams, operation_derived_id
from ruta_shared.events.catalog.training import TrainingSessionScheduled
from ruta_shared.outbox import SEQUENCE_FIELD
from ruta_shared.security.permissions import ensure_office_scope
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_training.runtime import Runtime
from ruta_training.sessions.models import (
    AssessmentRead,
    AttendanceRead,
    HeadcountRead,
    HeadcountSet,
    ModuleRead,
    SessionCreate,
    SessionRead,
)
from ruta_training.sessions.rules import (
    AttendanceInput,
    ParticipationOutcome,
    ScoreInput,
    attendance_read,
    check_schedule,
    default_certificate_min_hours,
    plan_cancel,
    plan_headcount,
    plan_hold,
    plan_participation,
    summarise_assessments,
    visible_offices,
)

Document = dict[str, Any]


async def load_session(*, runtime: Runtime, principal: Principal, session_id: str) -> Document:
    """The session document; 404 when missing or outside the caller's offices."""
    doc = await runtime.sessions.load(session_id)
    ensure_office_scope(principal, doc["office"])
    return doc


async def change_session(
    *,
    runtime: Runtime,
    principal: Principal,
    session_id: str,
    apply: ApplyFn[T],
    expected_version: int | None = None,
) -> T:
    """Apply a planned change to a session the caller may see; its result."""

    async def in_scope(doc: Document) -> None:
        ensure_office_scope(principal, doc["office"])

    changed = await runtime.sessions.change(
        session_id,
        apply=apply,
        actor=principal.actor,
        expected_version=expected_version,
        check=in_scope,
    )
    return changed.result


# --- scheduling and status -------------------------------------------------------------


async def schedule(*, runtime: Runtime, principal: Principal, body: SessionCreate) -> Document:
    """Schedule a session (training.session_scheduled); returns the stored document."""
    ensure_office_scope(principal, body.office)
    check_schedule(body)
    # Under an Idempotency-Key the session id comes from the key: a re-run after a crash
    # finds the session the first attempt wrote instead of scheduling a second one.
    derived = operation_derived_id("session")
    session_id = derived or str(uuid7())
    if derived is not None and (written := await runtime.sessions.get(session_id)) is not None:
        return written
    min_hours = body.certificate_min_hours
    if min_hours is None:
        min_hours = default_certificate_min_hours(
            body.pedagogic_hours, runtime.settings.certificate_min_attendance_ratio
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
    document[SEQUENCE_FIELD] = await runtime.sessions.insert(
        document, events=[event], actor=principal.actor
    )
    return document


async def hold(
    *,
    runtime: Runtime,
    principal: Principal,
    session_id: str,
    held_on: date | None,
    expected_version: int,
) -> Document:
    """Mark a scheduled session as held (training.session_held)."""
    return await _change_status(
        runtime, principal, session_id, lambda doc: plan_hold(doc, held_on), expected_version
    )


async def cancel(
    *,
    runtime: Runtime,
    principal: Principal,
    session_id: str,
    reason: str | None,
    expected_version: int,
) -> Document:
    """Cancel a scheduled session that has nothing recorded (training.session_cancelled)."""
    return await _change_status(
        runtime,
        principal,
        session_id,
        lambda doc: plan_cancel(doc, reason, datetime.now(UTC)),
        expected_version,
    )


async def _change_status(
    runtime: Runtime,
    principal: Principal,
    session_id: str,
    apply: ApplyFn[None],
    expected_version: int,
) -> Document:
    """A status change under the client's If-Match; the session as it is afterwards."""
    await change_session(
        runtime=runtime,
        principal=principal,
        session_id=session_id,
        apply=apply,
        expected_version=expected_version,
    )
    return await load_session(runtime=runtime, principal=principal, session_id=session_id)


async def list_sessions(
    *,
    runtime: Runtime,
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
    collection = runtime.sessions.collection
    total = await collection.count_documents(query)
    docs = await (
        collection.find(query, HIDDEN_FIELDS, sort=[("starts_on", -1), ("_id", -1)])
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


async def record_participation(
    *,
    runtime: Runtime,
    principal: Principal,
    session_id: str,
    attendances: Sequence[AttendanceInput],
    scores: Sequence[ScoreInput] = (),
) -> ParticipationOutcome:
    """Record attendance (and test scores) in one atomic update of the session.

    Repeats are no-ops: an attendance already recorded with the same hours publishes no
    event, so a sheet uploaded twice counts nobody twice.
    """
    attending = sorted({item.participant_id for item in attendances})
    if attending:
        # Each participant lists the sessions they may have attended (a superset: written
        # first), so a merge or an export finds their attendance by `_id`.
        await runtime.participants.update_many(
            {"_id": {"$in": attending}}, {"$addToSet": {"sessions": session_id}}
        )
    return await change_session(
        runtime=runtime,
        principal=principal,
        session_id=session_id,
        apply=lambda doc: plan_participation(doc, attendances, scores, datetime.now(UTC)),
    )


def attendance_of(doc: Document) -> list[AttendanceRead]:
    """Every attendance of a session, by participant id."""
    return [attendance_read(pid, entry, None) for pid, entry in sorted(doc["attendance"].items())]


def assessments_of(doc: Document) -> list[AssessmentRead]:
    """Scores per participant, by participant id."""
    return [
        AssessmentRead(
            participant_id=pid,
            pre_score=a["pre"],
            post_score=a["post"],
            gain=round(float(a["post"]) - float(a["pre"]), 2),
        )
        for pid, a in sorted(doc.get("assessments", {}).items())
    ]


async def set_headcount(
    *,
    runtime: Runtime,
    principal: Principal,
    session_id: str,
    audience: str,
    counts: HeadcountSet,
) -> HeadcountRead:
    """Set the head count of one audience (training.headcount_recorded; same numbers: no-op)."""
    values = counts.model_dump()
    return await change_session(
        runtime=runtime,
        principal=principal,
        session_id=session_id,
        apply=lambda doc: plan_headcount(doc, audience, values),
    )


def headcounts_of(doc: Document) -> list[HeadcountRead]:
    """A session's head counts, by audience."""
    return [
        HeadcountRead(audience=audience, total=sum(c.values()), **c)
        for audience, c in sorted(doc.get("headcounts", {}).items())
    ]
