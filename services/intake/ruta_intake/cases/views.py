"""Case routes: open, list, read, correct, change status, close, reopen, break the glass."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from ruta_shared.api import Page, etag
from ruta_shared.reference import UBIGEO_PATTERN, CaseStatus, CrimeType, Office
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.cases import service
from ruta_intake.cases.models import (
    BreakGlassCreate,
    BreakGlassRead,
    CaseClose,
    CaseCreate,
    CaseRead,
    CaseReopen,
    CaseSummary,
    CaseUpdate,
    StatusChange,
)
from ruta_intake.deps import CaseId, IfMatch, Once, Paging, RuntimeDep, request_body

CASE_CODE_PATTERN = r"^[A-Z]{3}-\d{4}-\d{4,}$"  # as intake writes it: LIM-2026-0001

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["casos"])


@router.post("/cases", response_model=CaseRead, status_code=201)
async def open_case(
    *,
    body: CaseCreate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    once: Once,
) -> JSONResponse:
    """Open a case with its first victims (409 when a document number is already registered)."""

    async def run() -> tuple[CaseRead, int]:
        read = await service.open_case(runtime=runtime, principal=principal, body=body)
        return read, read.version

    return await once(principal=principal, scope="open_case", request=request_body(body), run=run)


@router.get("/cases", response_model=Page[CaseSummary])
async def list_cases(
    *,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:read")],
    page: Paging,
    office: Office | None = None,
    status: CaseStatus | None = None,
    region: Annotated[str | None, Query(pattern=UBIGEO_PATTERN)] = None,
    crime_type: CrimeType | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
    code: Annotated[
        str | None, Query(pattern=CASE_CODE_PATTERN, description="Código exacto.")
    ] = None,
) -> Page[CaseSummary]:
    """Cases the caller may see, newest first, with filters (dates are days in Peru)."""
    return await service.list_cases(
        runtime=runtime,
        principal=principal,
        page=page,
        office=office,
        status=status,
        region=region,
        crime_type=crime_type,
        opened_from=opened_from,
        opened_to=opened_to,
        code=code,
    )


@router.get("/cases/{case_id}", response_model=CaseRead)
async def read_case(
    *,
    case_id: CaseId,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:read")],
    response: Response,
) -> CaseRead:
    """A case with its victims, relatives and consents (no personal data); ETag is its version."""
    read = await service.read_case(runtime=runtime, principal=principal, case_id=case_id)
    response.headers["ETag"] = etag(read.version)
    return read


@router.patch("/cases/{case_id}", response_model=CaseRead)
async def update_case(
    *,
    case_id: CaseId,
    body: CaseUpdate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    if_match: IfMatch,
    response: Response,
) -> CaseRead:
    """Correct a case's facts; send If-Match with the ETag you read (412 if it changed)."""
    read, version = await service.update_case(
        runtime=runtime, principal=principal, case_id=case_id, body=body, if_match=if_match
    )
    response.headers["ETag"] = etag(version)
    return read


@router.post("/cases/{case_id}/status", response_model=CaseRead)
async def change_status(
    *,
    case_id: CaseId,
    body: StatusChange,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    if_match: IfMatch,
    once: Once,
) -> JSONResponse:
    """Move a case between open and in care (If-Match required)."""
    return await once(
        principal=principal,
        scope=f"status:{case_id}",
        request={"body": request_body(body), "if_match": if_match},
        run=lambda: service.change_status(
            runtime=runtime, principal=principal, case_id=case_id, body=body, if_match=if_match
        ),
        status=200,
    )


@router.post("/cases/{case_id}/closure", response_model=CaseRead)
async def close_case(
    *,
    case_id: CaseId,
    body: CaseClose,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:approve")],
    if_match: IfMatch,
    once: Once,
) -> JSONResponse:
    """Close a case with a reason (coordinators approve closures; If-Match required)."""
    return await once(
        principal=principal,
        scope=f"close:{case_id}",
        request={"body": request_body(body), "if_match": if_match},
        run=lambda: service.close_case(
            runtime=runtime, principal=principal, case_id=case_id, body=body, if_match=if_match
        ),
        status=200,
    )


@router.post("/cases/{case_id}/reopening", response_model=CaseRead)
async def reopen_case(
    *,
    case_id: CaseId,
    body: CaseReopen,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    if_match: IfMatch,
    once: Once,
) -> JSONResponse:
    """Reopen a closed case (If-Match required)."""
    return await once(
        principal=principal,
        scope=f"reopen:{case_id}",
        request={"body": request_body(body), "if_match": if_match},
        run=lambda: service.reopen_case(
            runtime=runtime, principal=principal, case_id=case_id, body=body, if_match=if_match
        ),
        status=200,
    )


@router.post("/cases/{case_id}/break-glass", response_model=BreakGlassRead, status_code=201)
async def break_glass(
    *,
    case_id: CaseId,
    body: BreakGlassCreate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:break_glass")],
) -> BreakGlassRead:
    """Time-limited access to a case of another office, with a justification (logged, published)."""
    return await service.break_glass(
        runtime=runtime, principal=principal, case_id=case_id, body=body
    )
