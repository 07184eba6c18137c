"""Care routes: record care given to a victim, list a case's care records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from ruta_shared.api import Page
from ruta_shared.reference import CareType
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.care import service
from ruta_intake.care.models import CareCreate, CareRead
from ruta_intake.deps import CaseId, Once, Paging, RuntimeDep, VictimFilter, VictimId, request_body

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["atención"])


@router.post("/cases/{case_id}/victims/{victim_id}/care", response_model=CareRead, status_code=201)
async def provide_care(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    body: CareCreate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    once: Once,
) -> JSONResponse:
    """Record care given to a victim (date, professional, duration, amount spent)."""
    return await once(
        principal=principal,
        scope=f"care:{case_id}:{victim_id}",
        request=request_body(body),
        run=lambda: service.provide_care(
            runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, body=body
        ),
    )


@router.get("/cases/{case_id}/care", response_model=Page[CareRead])
async def list_care(
    *,
    case_id: CaseId,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:read")],
    page: Paging,
    victim_id: VictimFilter = None,
    care_type: CareType | None = None,
) -> Page[CareRead]:
    """A case's care records, newest first."""
    return await service.list_care(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        page=page,
        victim_id=victim_id,
        care_type=care_type,
    )
