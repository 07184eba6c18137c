"""Case plan routes: start from a template, add a task, change its status, lists, title."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import Office
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import CaseIdPath, IntakeDep, RuntimeDep, VictimIdPath
from ruta_referrals.plans import service
from ruta_referrals.plans.models import (
    PlanCreate,
    TaskCreate,
    TaskDetails,
    TaskRead,
    TaskStatusChange,
)

router = APIRouter(tags=["plan del caso"])
TaskIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la tarea")]
VICTIM_PLAN = "/cases/{case_id}/victims/{victim_id}/plan"


@router.post(VICTIM_PLAN, response_model=list[TaskRead], status_code=201)
async def start_plan(
    *,
    case_id: CaseIdPath,
    victim_id: VictimIdPath,
    body: PlanCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    intake: IntakeDep,
) -> list[TaskRead]:
    """Start the victim's plan from the template of the crime type and age group (409: has one)."""
    return await service.start_plan(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        victim_id=victim_id,
        body=body,
        intake=intake,
    )


@router.post(VICTIM_PLAN + "/tasks", response_model=TaskRead, status_code=201)
async def add_task(
    *,
    case_id: CaseIdPath,
    victim_id: VictimIdPath,
    body: TaskCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    intake: IntakeDep,
) -> TaskRead:
    """Add a task by hand (its title is kept encrypted)."""
    return await service.add_task(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        victim_id=victim_id,
        body=body,
        intake=intake,
    )


@router.get("/cases/{case_id}/plan", response_model=list[TaskRead])
async def get_case_plan(
    case_id: CaseIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
) -> list[TaskRead]:
    """Every task of the case's victims."""
    return await service.case_plan(runtime=runtime, principal=principal, case_id=case_id)


@router.post("/cases/{case_id}/plan/tasks/{task_id}/status", response_model=TaskRead)
async def set_task_status(
    case_id: CaseIdPath,
    task_id: TaskIdPath,
    body: TaskStatusChange,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
) -> TaskRead:
    """Mark a task done, cancelled or open again."""
    return await service.set_task_status(
        runtime=runtime, principal=principal, case_id=case_id, task_id=task_id, status=body.status
    )


@router.get("/cases/{case_id}/plan/tasks/{task_id}/details", response_model=TaskDetails)
async def get_task_details(
    case_id: CaseIdPath,
    task_id: TaskIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
) -> TaskDetails:
    """A hand-written task's title, decrypted (access-logged)."""
    return await service.task_details(
        runtime=runtime, principal=principal, case_id=case_id, task_id=task_id
    )


@router.get("/plan-tasks/overdue", response_model=list[TaskRead])
async def list_overdue_tasks(
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    assignee_id: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
    office: Office | None = None,
) -> list[TaskRead]:
    """Open tasks past their due day, of the caller's offices; per worker or office if given."""
    return await service.overdue_tasks(
        runtime=runtime, principal=principal, assignee_id=assignee_id, office=office
    )
