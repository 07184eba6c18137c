"""Project registry routes (coordinators and admins write, staff read) and a case's project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from ruta_shared.api import etag
from ruta_shared.reference import PROJECT_CODE_PATTERN
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.deps import CaseId, IfMatch, Once, RuntimeDep, request_body
from ruta_intake.projects import service
from ruta_intake.projects.models import (
    CaseProjectAssign,
    CaseProjectRead,
    ProjectCreate,
    ProjectFacts,
    ProjectRead,
)

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["proyectos"])
CodePath = Annotated[str, Path(pattern=PROJECT_CODE_PATTERN, description="Código del proyecto")]


@router.get("/projects", response_model=list[ProjectRead])
async def list_projects(
    runtime: RuntimeDep, _: Annotated[Principal, require("project:read")]
) -> list[ProjectRead]:
    """Every funded project, by code."""
    return await service.list_projects(runtime=runtime)


@router.post("/projects", response_model=ProjectRead, status_code=201)
async def register_project(
    *,
    body: ProjectCreate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("project:write")],
    once: Once,
) -> JSONResponse:
    """Register a funded project (409 when the code exists)."""
    return await once(
        principal=principal,
        scope="project",
        request=request_body(body),
        run=lambda: service.register_project(runtime=runtime, principal=principal, body=body),
    )


@router.get("/projects/{code}", response_model=ProjectRead)
async def get_project(
    code: CodePath,
    runtime: RuntimeDep,
    _: Annotated[Principal, require("project:read")],
    response: Response,
) -> ProjectRead:
    """One project; its ETag is the version a correction must send as If-Match."""
    read = await service.get_project(runtime=runtime, code=code)
    response.headers["ETag"] = etag(read.version)
    return read


@router.patch("/projects/{code}", response_model=ProjectRead)
async def update_project(
    *,
    code: CodePath,
    body: ProjectFacts,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("project:write")],
    if_match: IfMatch,
    response: Response,
) -> ProjectRead:
    """Correct a project's facts (all of them; If-Match required)."""
    read, version = await service.update_project(
        runtime=runtime, principal=principal, code=code, body=body, if_match=if_match
    )
    response.headers["ETag"] = etag(version)
    return read


@router.post("/cases/{case_id}/project", response_model=CaseProjectRead)
async def assign_case_project(
    *,
    case_id: CaseId,
    body: CaseProjectAssign,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    once: Once,
) -> JSONResponse:
    """Assign the case to a project of its office, or take it out (`project_code`: null)."""
    return await once(
        principal=principal,
        scope=f"case_project:{case_id}",
        request=request_body(body),
        run=lambda: service.assign_case_project(
            runtime=runtime, principal=principal, case_id=case_id, body=body
        ),
        status=200,
    )
