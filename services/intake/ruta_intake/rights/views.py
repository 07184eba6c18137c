"""Data subjects' rights routes: rectify personal data, erase a relative, export a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from ruta_shared.api import etag
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.deps import CaseId, IfMatch, NoStore, Purpose, RelativeId, RuntimeDep, VictimId
from ruta_intake.rights import export, service
from ruta_intake.rights.models import (
    PersonalDataPatch,
    RectificationRead,
    RelativeErasureRead,
    RelativeExport,
    VictimDataPatch,
    VictimExport,
)

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["derechos de las personas"])


def etagged(response: Response, outcome: tuple[RectificationRead, int]) -> RectificationRead:
    """The rectification's answer, with the case's new version as its ETag."""
    read, version = outcome
    response.headers["ETag"] = etag(version)
    return read


@router.patch(
    "/cases/{case_id}/victims/{victim_id}/personal-data",
    response_model=RectificationRead,
    dependencies=[NoStore],
)
async def rectify_victim_personal_data(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    body: VictimDataPatch,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim_pii:write")],
    if_match: IfMatch,
    response: Response,
) -> RectificationRead:
    """Rectify a victim's personal data (If-Match); the answer names the fields, not values."""
    return etagged(
        response,
        await service.rectify_personal_data(
            runtime=runtime,
            principal=principal,
            case_id=case_id,
            subject_type="victim",
            subject_id=victim_id,
            body=body,
            if_match=if_match,
        ),
    )


@router.patch(
    "/cases/{case_id}/relatives/{relative_id}/personal-data",
    response_model=RectificationRead,
    dependencies=[NoStore],
)
async def rectify_relative_personal_data(
    *,
    case_id: CaseId,
    relative_id: RelativeId,
    body: PersonalDataPatch,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim_pii:write")],
    if_match: IfMatch,
    response: Response,
) -> RectificationRead:
    """Rectify a relative's personal data (If-Match); the answer names the fields, not values."""
    return etagged(
        response,
        await service.rectify_personal_data(
            runtime=runtime,
            principal=principal,
            case_id=case_id,
            subject_type="relative",
            subject_id=relative_id,
            body=body,
            if_match=if_match,
        ),
    )


@router.post("/cases/{case_id}/relatives/{relative_id}/erasure", response_model=RelativeErasureRead)
async def erase_relative(
    *,
    case_id: CaseId,
    relative_id: RelativeId,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim:erase")],
) -> RelativeErasureRead:
    """Erase a relative's personal data for good (crypto-shredding); the record stays."""
    return await service.erase_relative(
        runtime=runtime, principal=principal, case_id=case_id, relative_id=relative_id
    )


@router.get(
    "/cases/{case_id}/victims/{victim_id}/export",
    response_model=VictimExport,
    dependencies=[NoStore],
)
async def export_victim(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    purpose: Purpose,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim:export")],
) -> VictimExport:
    """Everything intake holds on a victim and her relatives, decrypted; every read is logged."""
    return await export.export_victim(
        runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, purpose=purpose
    )


@router.get(
    "/cases/{case_id}/relatives/{relative_id}/export",
    response_model=RelativeExport,
    dependencies=[NoStore],
)
async def export_relative(
    *,
    case_id: CaseId,
    relative_id: RelativeId,
    purpose: Purpose,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim:export")],
) -> RelativeExport:
    """Everything intake holds on a relative (her own data only); every read is logged."""
    return await export.export_relative(
        runtime=runtime,
        principal=principal,
        case_id=case_id,
        relative_id=relative_id,
        purpose=purpose,
    )
