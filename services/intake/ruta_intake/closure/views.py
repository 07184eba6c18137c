"""Closure request routes: a case worker asks, a coordinator approves or returns; the queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.closure import service
from ruta_intake.closure.models import (
    ClosureRequestCreate,
    ClosureRequestDetails,
    ClosureRequestRead,
    ClosureReturn,
)
from ruta_intake.deps import CaseId, NoStore, Once, RuntimeDep, request_body

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["cierre de casos"])
RequestId = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la solicitud de cierre")]
BASE = "/cases/{case_id}/closure-requests"


@router.get("/closure-requests", response_model=list[ClosureRequestRead])
async def list_pending_closures(
    runtime: RuntimeDep, principal: Annotated[Principal, require("case:read")]
) -> list[ClosureRequestRead]:
    """The approval queue: pending closure requests of the caller's offices."""
    return await service.pending_closures(runtime=runtime, principal=principal)


@router.post(BASE, response_model=ClosureRequestRead, status_code=201)
async def request_closure(
    *,
    case_id: CaseId,
    body: ClosureRequestCreate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    once: Once,
) -> JSONResponse:
    """Ask a coordinator to close the case, with a reason (one pending request at a time)."""
    return await once(
        principal=principal,
        scope=f"closure_request:{case_id}",
        request=request_body(body),
        run=lambda: service.request_closure(
            runtime=runtime, principal=principal, case_id=case_id, body=body
        ),
    )


@router.get(BASE, response_model=list[ClosureRequestRead])
async def list_case_closure_requests(
    case_id: CaseId, runtime: RuntimeDep, principal: Annotated[Principal, require("case:read")]
) -> list[ClosureRequestRead]:
    """The case's closure requests, oldest first."""
    return await service.case_closure_requests(
        runtime=runtime, principal=principal, case_id=case_id
    )


@router.get(
    BASE + "/{request_id}/details", response_model=ClosureRequestDetails, dependencies=[NoStore]
)
async def get_closure_details(
    case_id: CaseId,
    request_id: RequestId,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:read")],
) -> ClosureRequestDetails:
    """The request's note and the coordinator's comment, decrypted (access-logged)."""
    return await service.closure_details(
        runtime=runtime, principal=principal, case_id=case_id, request_id=request_id
    )


@router.post(BASE + "/{request_id}/approval", response_model=ClosureRequestRead)
async def approve_closure(
    *,
    case_id: CaseId,
    request_id: RequestId,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:approve")],
    once: Once,
) -> JSONResponse:
    """Approve the request: the case closes with the requested reason."""
    return await once(
        principal=principal,
        scope=f"closure_approval:{case_id}:{request_id}",
        request=None,
        run=lambda: service.approve_closure(
            runtime=runtime, principal=principal, case_id=case_id, request_id=request_id
        ),
        status=200,
    )


@router.post(BASE + "/{request_id}/return", response_model=ClosureRequestRead)
async def return_closure(
    *,
    case_id: CaseId,
    request_id: RequestId,
    body: ClosureReturn,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:approve")],
    once: Once,
) -> JSONResponse:
    """Return the request to the case worker with a comment; the case stays open."""
    return await once(
        principal=principal,
        scope=f"closure_return:{case_id}:{request_id}",
        request=request_body(body),
        run=lambda: service.return_closure(
            runtime=runtime,
            principal=principal,
            case_id=case_id,
            request_id=request_id,
            comment=body.comment,
        ),
        status=200,
    )
