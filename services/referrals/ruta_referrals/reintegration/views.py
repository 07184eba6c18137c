"""Routes of a victim's return home and reintegration milestones, and a case's whole route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import (
    CaseIdPath,
    IdempotencyKeyDep,
    IntakeDep,
    RuntimeDep,
    VictimIdPath,
)
from ruta_referrals.intake_projection.intake_api import IntakeLookup
from ruta_referrals.intake_projection.service import check_project
from ruta_referrals.reintegration import service
from ruta_referrals.reintegration.models import (
    CaseRouteRead,
    MilestoneCreate,
    MilestoneRead,
    ReturnHomeCreate,
    ReturnHomeRead,
)
from ruta_referrals.runtime import Runtime

router = APIRouter(tags=["retorno y reintegración"])


async def _record(
    runtime: Runtime,
    principal: Principal,
    intake: IntakeLookup,
    where: tuple[str, str],
    *,
    key: str | None,
    body: BaseModel,
    record: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    """Check the case and victim (`where`), then record once per Idempotency-Key."""
    case_id, victim_id = where
    await service.check_case_and_victim(
        runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, intake=intake
    )

    async def operation() -> tuple[int, Any]:
        return 201, (await record()).model_dump(mode="json")

    return await runtime.idempotency.run(
        scope=f"{principal.id}:{type(body).__name__}:{case_id}:{victim_id}",
        key=key,
        request=body.model_dump(mode="json"),
        operation=operation,
    )


@router.post(
    "/cases/{case_id}/victims/{victim_id}/return-home",
    response_model=ReturnHomeRead,
    status_code=201,
)
async def record_return_home(
    *,
    case_id: CaseIdPath,
    victim_id: VictimIdPath,
    body: ReturnHomeCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    key: IdempotencyKeyDep,
    intake: IntakeDep,
) -> JSONResponse:
    """Record that the victim returned to their place of origin."""

    async def record() -> ReturnHomeRead:
        case = await runtime.cases.load(case_id)
        await check_project(
            runtime=runtime,
            code=body.project_code,
            office=case["office"],
            intake=intake,
            field="body.project_code",
        )
        return await service.record_return_home(
            runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, body=body
        )

    where = (case_id, victim_id)
    return await _record(runtime, principal, intake, where, key=key, body=body, record=record)


@router.post(
    "/cases/{case_id}/victims/{victim_id}/reintegration-milestones",
    response_model=MilestoneRead,
    status_code=201,
)
async def record_milestone(
    *,
    case_id: CaseIdPath,
    victim_id: VictimIdPath,
    body: MilestoneCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    key: IdempotencyKeyDep,
    intake: IntakeDep,
) -> JSONResponse:
    """Record a reintegration milestone (job training, employment, seed funds, follow-up...)."""

    async def record() -> MilestoneRead:
        return await service.record_milestone(
            runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, body=body
        )

    where = (case_id, victim_id)
    return await _record(runtime, principal, intake, where, key=key, body=body, record=record)


@router.get("/cases/{case_id}/route", response_model=CaseRouteRead)
async def get_case_route(
    *,
    case_id: CaseIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
) -> CaseRouteRead:
    """A case's referrals, returns home and reintegration milestones."""
    return await service.case_route(runtime=runtime, principal=principal, case_id=case_id)
