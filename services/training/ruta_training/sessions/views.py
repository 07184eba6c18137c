"""Routes of sessions and what is recorded on them: status, attendance, head counts, scores."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from ruta_shared.api import (
    Page,
    PageParams,
    etag,
    idempotency_key,
    if_match_version,
    page_params,
)
from ruta_shared.reference import Audience, Office

from ruta_training.deps import RuntimeDep, SessionId, TrainingReader, TrainingWriter
from ruta_training.participants.records import current_id, ensure_not_erased, load_participant
from ruta_training.participants.rules import ATTRIBUTES
from ruta_training.sessions import service
from ruta_training.sessions.models import (
    AssessmentCreate,
    AssessmentRead,
    AttendanceCreate,
    AttendanceRead,
    HeadcountRead,
    HeadcountSet,
    SessionCancel,
    SessionCreate,
    SessionHold,
    SessionRead,
    SessionStatus,
)
from ruta_training.sessions.rules import AttendanceInput, ScoreInput

router = APIRouter(prefix="/sessions", tags=["sesiones"])

Item = TypeVar("Item", AttendanceRead, AssessmentRead)

IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
IfMatch = Annotated[int, Depends(if_match_version)]
Paging = Annotated[PageParams, Depends(page_params)]


def _page_of(items: list[Item], page: PageParams) -> Page[Item]:
    """One page of a list held whole in the session document (bounded by its size)."""
    return Page(
        items=items[page.offset : page.offset + page.limit],
        total=len(items),
        limit=page.limit,
        offset=page.offset,
    )


def _session_response(read: SessionRead, status_code: int = 200) -> JSONResponse:
    """A session with its ETag, for If-Match on the next change."""
    response = JSONResponse(read.model_dump(mode="json"), status_code=status_code)
    response.headers["ETag"] = etag(read.version)
    return response


@router.post("", response_model=SessionRead, status_code=201)
async def schedule_session(
    body: SessionCreate, runtime: RuntimeDep, who: TrainingWriter, key: IdempotencyKey
) -> JSONResponse:
    """Schedule a session."""

    async def operation() -> tuple[int, Any]:
        document = await service.schedule(runtime=runtime, principal=who, body=body)
        return 201, service.to_read(document).model_dump(mode="json")

    response = await runtime.idempotency.run(
        scope=f"{who.id}:schedule_session",
        key=key,
        request=body.model_dump(mode="json"),
        operation=operation,
    )
    if response.status_code == 201:
        response.headers["ETag"] = etag(
            int(SessionRead.model_validate_json(bytes(response.body)).version)
        )
    return response


@router.get("", response_model=Page[SessionRead])
async def list_sessions(
    *,
    runtime: RuntimeDep,
    who: TrainingReader,
    page: Paging,
    status: Annotated[SessionStatus | None, Query(description="Estado")] = None,
    office: Annotated[Office | None, Query(description="Oficina")] = None,
    starts_from: Annotated[date | None, Query(description="Desde (fecha de inicio)")] = None,
    starts_to: Annotated[date | None, Query(description="Hasta (fecha de inicio)")] = None,
) -> Page[SessionRead]:
    """Sessions in the caller's offices, newest first."""
    docs, total = await service.list_sessions(
        runtime=runtime,
        principal=who,
        page=page,
        status=status,
        office=office,
        starts_from=starts_from,
        starts_to=starts_to,
    )
    return Page(
        items=[service.to_read(d) for d in docs],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{session_id}", response_model=SessionRead)
async def read_session(
    session_id: SessionId, runtime: RuntimeDep, who: TrainingReader
) -> JSONResponse:
    """One session, with its ETag."""
    doc = await service.load_session(runtime=runtime, principal=who, session_id=session_id)
    return _session_response(service.to_read(doc))


@router.post("/{session_id}/hold", response_model=SessionRead)
async def hold_session(
    session_id: SessionId,
    body: SessionHold,
    runtime: RuntimeDep,
    who: TrainingWriter,
    version: IfMatch,
) -> JSONResponse:
    """Mark a scheduled session as held (If-Match required)."""
    doc = await service.hold(
        runtime=runtime,
        principal=who,
        session_id=session_id,
        held_on=body.held_on,
        expected_version=version,
    )
    return _session_response(service.to_read(doc))


@router.post("/{session_id}/cancel", response_model=SessionRead)
async def cancel_session(
    session_id: SessionId,
    body: SessionCancel,
    runtime: RuntimeDep,
    who: TrainingWriter,
    version: IfMatch,
) -> JSONResponse:
    """Cancel a scheduled session with nothing recorded (If-Match required)."""
    doc = await service.cancel(
        runtime=runtime,
        principal=who,
        session_id=session_id,
        reason=body.reason,
        expected_version=version,
    )
    return _session_response(service.to_read(doc))


@router.post("/{session_id}/attendance", response_model=AttendanceRead)
async def record_attendance(
    session_id: SessionId, body: AttendanceCreate, runtime: RuntimeDep, who: TrainingWriter
) -> JSONResponse:
    """Record that a registered participant attended (201 new, 200 updated or unchanged)."""
    participant = await load_participant(
        runtime=runtime, principal=who, participant_id=body.participant_id
    )
    ensure_not_erased(participant)  # a person erased is not recorded again
    outcome = await service.record_participation(
        runtime=runtime,
        principal=who,
        session_id=session_id,
        attendances=[
            AttendanceInput(
                participant_id=participant["_id"],  # a merged id records for the one kept
                attributes={name: participant.get(name) for name in ATTRIBUTES},
                hours=body.hours_attended,
                modules=body.modules_attended,
            )
        ],
    )
    [read] = outcome.attendance
    return JSONResponse(
        read.model_dump(mode="json"), status_code=201 if read.recorded == "created" else 200
    )


@router.get("/{session_id}/attendance", response_model=Page[AttendanceRead])
async def list_attendance(
    session_id: SessionId, runtime: RuntimeDep, who: TrainingReader, page: Paging
) -> Page[AttendanceRead]:
    """Who attended (pseudonymous ids and attributes only)."""
    doc = await service.load_session(runtime=runtime, principal=who, session_id=session_id)
    items = service.attendance_of(doc)
    return _page_of(items, page)


@router.put("/{session_id}/headcounts/{audience}", response_model=HeadcountRead)
async def set_headcount(
    session_id: SessionId,
    audience: Audience,
    body: HeadcountSet,
    runtime: RuntimeDep,
    who: TrainingWriter,
) -> HeadcountRead:
    """Set how many people of an audience came where names were not taken."""
    return await service.set_headcount(
        runtime=runtime, principal=who, session_id=session_id, audience=audience, counts=body
    )


@router.get("/{session_id}/headcounts", response_model=list[HeadcountRead])
async def list_headcounts(
    session_id: SessionId, runtime: RuntimeDep, who: TrainingReader
) -> list[HeadcountRead]:
    """A session's head counts by audience."""
    doc = await service.load_session(runtime=runtime, principal=who, session_id=session_id)
    return service.headcounts_of(doc)


@router.post("/{session_id}/assessments", response_model=AssessmentRead)
async def record_assessment(
    session_id: SessionId, body: AssessmentCreate, runtime: RuntimeDep, who: TrainingWriter
) -> JSONResponse:
    """Record a participant's pre and post test scores (201 new, 200 otherwise)."""
    participant_id = await current_id(runtime, body.participant_id)
    outcome = await service.record_participation(
        runtime=runtime,
        principal=who,
        session_id=session_id,
        attendances=[],
        scores=[
            ScoreInput(participant_id=participant_id, pre=body.pre_score, post=body.post_score)
        ],
    )
    read = AssessmentRead(
        participant_id=participant_id,
        pre_score=body.pre_score,
        post_score=body.post_score,
        gain=round(body.post_score - body.pre_score, 2),
    )
    return JSONResponse(
        read.model_dump(mode="json"), status_code=201 if outcome.scores == ["created"] else 200
    )


@router.get("/{session_id}/assessments", response_model=Page[AssessmentRead])
async def list_assessments(
    session_id: SessionId, runtime: RuntimeDep, who: TrainingReader, page: Paging
) -> Page[AssessmentRead]:
    """Scores per participant (the average gain is in the session)."""
    doc = await service.load_session(runtime=runtime, principal=who, session_id=session_id)
    items = service.assessments_of(doc)
    return _page_of(items, page)
