"""Victim and relative routes: register, read attributes, audited personal-data reads, erasure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from ruta_shared.api import etag
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.deps import (
    CaseId,
    IfMatch,
    NoStore,
    Once,
    Purpose,
    RelativeId,
    RuntimeDep,
    VictimId,
    request_body,
)
from ruta_intake.victims import service
from ruta_intake.victims.models import (
    AccessRecord,
    ErasureRead,
    PersonalDataRead,
    RelativeCreate,
    RelativeRead,
    VictimAttributesUpdate,
    VictimCreate,
    VictimRead,
)

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["víctimas"])


@router.post("/cases/{case_id}/victims", response_model=VictimRead, status_code=201)
async def register_victim(
    *,
    case_id: CaseId,
    body: VictimCreate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim_pii:write")],
    once: Once,
) -> JSONResponse:
    """Register a victim in a case (409 with `existing_victim_id` when the document exists)."""
    return await once(
        principal=principal,
        scope=f"victim:{case_id}",
        request=request_body(body),
        run=lambda: service.register_victim(
            runtime=runtime, principal=principal, case_id=case_id, body=body
        ),
    )


@router.get("/cases/{case_id}/victims/{victim_id}", response_model=VictimRead)
async def read_victim(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:read")],
) -> VictimRead:
    """A victim's non-identifying attributes."""
    return await service.read_victim(
        runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id
    )


@router.patch("/cases/{case_id}/victims/{victim_id}", response_model=VictimRead)
async def correct_victim_attributes(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    body: VictimAttributesUpdate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    if_match: IfMatch,
    response: Response,
) -> VictimRead:
    """Correct a victim's non-identifying attributes (If-Match with the case's ETag)."""
    read, version = await service.correct_attributes(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        victim_id=victim_id,
        body=body,
        if_match=if_match,
    )
    response.headers["ETag"] = etag(version)
    return read


@router.get(
    "/cases/{case_id}/victims/{victim_id}/personal-data",
    response_model=PersonalDataRead,
    dependencies=[NoStore],
)
async def read_victim_personal_data(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    purpose: Purpose,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim_pii:read")],
) -> PersonalDataRead:
    """A victim's decrypted personal data; the read is recorded and published (410 if erased)."""
    return await service.read_personal_data(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        subject_type="victim",
        subject_id=victim_id,
        purpose=purpose,
    )


@router.get("/cases/{case_id}/victims/{victim_id}/access-log", response_model=list[AccessRecord])
async def read_access_log(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("access_log:read")],
) -> list[AccessRecord]:
    """Who read a victim's personal data, when and why (newest first)."""
    return await service.access_records(
        runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id
    )


@router.post("/cases/{case_id}/victims/{victim_id}/erasure", response_model=ErasureRead)
async def erase_victim(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim:erase")],
) -> ErasureRead:
    """Erase a victim's (and their relatives') personal data for good; statistics stay."""
    return await service.erase_victim(
        runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id
    )


@router.post(
    "/cases/{case_id}/victims/{victim_id}/relatives", response_model=RelativeRead, status_code=201
)
async def register_relative(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    body: RelativeCreate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim_pii:write")],
    once: Once,
) -> JSONResponse:
    """Register a relative of a victim, with their own encrypted personal data."""
    return await once(
        principal=principal,
        scope=f"relative:{case_id}:{victim_id}",
        request=request_body(body),
        run=lambda: service.register_relative(
            runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, body=body
        ),
    )


@router.get(
    "/cases/{case_id}/relatives/{relative_id}/personal-data",
    response_model=PersonalDataRead,
    dependencies=[NoStore],
)
async def read_relative_personal_data(
    *,
    case_id: CaseId,
    relative_id: RelativeId,
    purpose: Purpose,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim_pii:read")],
) -> PersonalDataRead:
    """A relative's decrypted personal data; the read is recorded and published (410 if erased)."""
    return await service.read_personal_data(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        subject_type="relative",
        subject_id=relative_id,
        purpose=purpose,
    )
