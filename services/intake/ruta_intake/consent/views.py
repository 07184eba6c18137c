"""Consent routes: record a new version, withdraw one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.consent import service
from ruta_intake.consent.models import ConsentCreate, ConsentRead, ConsentWithdraw
from ruta_intake.deps import CaseId, ConsentId, Once, RuntimeDep, VictimId, request_body

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["consentimiento"])


@router.post(
    "/cases/{case_id}/victims/{victim_id}/consents", response_model=ConsentRead, status_code=201
)
async def record_consent(
    *,
    case_id: CaseId,
    victim_id: VictimId,
    body: ConsentCreate,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    once: Once,
) -> JSONResponse:
    """Record a new version of a victim's (or guardian's) consent for one purpose."""
    return await once(
        principal=principal,
        scope=f"consent:{case_id}:{victim_id}",
        request=request_body(body),
        run=lambda: service.record_consent(
            runtime=runtime, principal=principal, case_id=case_id, victim_id=victim_id, body=body
        ),
    )


@router.post("/cases/{case_id}/consents/{consent_id}/withdrawal", response_model=ConsentRead)
async def withdraw_consent(
    *,
    case_id: CaseId,
    consent_id: ConsentId,
    body: ConsentWithdraw,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:write")],
    once: Once,
) -> JSONResponse:
    """Withdraw a consent (its current version)."""
    return await once(
        principal=principal,
        scope=f"withdraw:{case_id}:{consent_id}",
        request=request_body(body),
        run=lambda: service.withdraw_consent(
            runtime=runtime, principal=principal, case_id=case_id, consent_id=consent_id, body=body
        ),
        status=200,
    )
