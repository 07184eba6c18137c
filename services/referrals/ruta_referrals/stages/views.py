"""Routes of the protocol's route-of-care stages: catalogue, enter, leave, lists, the note."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import CaseIdPath, IdempotencyKeyDep, IntakeDep, RuntimeDep
from ruta_referrals.stages import service
from ruta_referrals.stages.models import (
    StageCatalogue,
    StageDetails,
    StageEnter,
    StageLeave,
    StageRead,
)
from ruta_referrals.stages.rules import catalogue

router = APIRouter(tags=["etapas de la ruta de atención"])
OccurrenceIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la etapa")]


@router.get("/route-stages", response_model=StageCatalogue)
async def get_stage_catalogue(
    _: Annotated[Principal, require("referral:read")], runtime: RuntimeDep
) -> StageCatalogue:
    """The protocol's stages with Spanish labels and their target durations."""
    return catalogue(runtime.settings.route_stage_target_seconds)


@router.get("/route-stages/overdue", response_model=list[StageRead])
async def list_overdue_stages(
    principal: Annotated[Principal, require("referral:read")], runtime: RuntimeDep
) -> list[StageRead]:
    """Open stages past their target duration, of the caller's offices."""
    return await service.overdue_stages(runtime=runtime, principal=principal)


@router.post("/cases/{case_id}/stages", response_model=StageRead, status_code=201)
async def enter_stage(
    *,
    case_id: CaseIdPath,
    body: StageEnter,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    key: IdempotencyKeyDep,
    intake: IntakeDep,
) -> JSONResponse:
    """Record that the case (or one victim) entered a stage; Idempotency-Key honoured."""

    async def operation() -> tuple[int, Any]:
        read = await service.enter_stage(
            runtime=runtime, principal=principal, case_id=case_id, body=body, intake=intake
        )
        return 201, read.model_dump(mode="json")

    return await runtime.idempotency.run(
        scope=f"{principal.id}:StageEnter:{case_id}",
        key=key,
        request=body.model_dump(mode="json"),
        operation=operation,
    )


@router.get("/cases/{case_id}/stages", response_model=list[StageRead])
async def list_case_stages(
    case_id: CaseIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
) -> list[StageRead]:
    """Every stage occurrence of the case."""
    return await service.case_stages(runtime=runtime, principal=principal, case_id=case_id)


@router.post("/cases/{case_id}/stages/{occurrence_id}/leave", response_model=StageRead)
async def leave_stage(
    case_id: CaseIdPath,
    occurrence_id: OccurrenceIdPath,
    body: StageLeave,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
) -> StageRead:
    """Record that the case (or victim) left the stage."""
    return await service.leave_stage(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        occurrence_id=occurrence_id,
        left_on=body.left_on,
    )


@router.get("/cases/{case_id}/stages/{occurrence_id}/details", response_model=StageDetails)
async def get_stage_details(
    case_id: CaseIdPath,
    occurrence_id: OccurrenceIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
) -> StageDetails:
    """The stage's note, decrypted; the read is access-logged."""
    return await service.stage_details(
        runtime=runtime, principal=principal, case_id=case_id, occurrence_id=occurrence_id
    )
