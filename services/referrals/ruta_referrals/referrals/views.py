"""Staff routes of referrals: create, list, read, answer on an institution's behalf, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from ruta_shared.api import Page, etag
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import Office
from ruta_shared.security.permissions import allowed, require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import (
    CaseIdPath,
    IdempotencyKeyDep,
    IfMatchDep,
    IntakeDep,
    PageDep,
    ReferralIdPath,
    RuntimeDep,
)
from ruta_referrals.referrals import overdue, service
from ruta_referrals.referrals.models import (
    DeclineBody,
    ProgressNoteCreate,
    ReferralCreate,
    ReferralDetails,
    ReferralRead,
)
from ruta_referrals.referrals.rules import Action, Status, staff_visible, to_staff_read
from ruta_referrals.runtime import Runtime

router = APIRouter(tags=["derivaciones"])


def with_etag(response: Response, read: ReferralRead) -> ReferralRead:
    """Set the referral's ETag on the response."""
    response.headers["ETag"] = etag(read.version)
    return read


@router.post("/cases/{case_id}/referrals", response_model=ReferralRead, status_code=201)
async def create_referral(
    *,
    case_id: CaseIdPath,
    body: ReferralCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    key: IdempotencyKeyDep,
    intake: IntakeDep,
) -> JSONResponse:
    """Refer a victim of the case to an institution (needs the victim's consent for its kind)."""
    institution = await service.referral_institution(
        runtime=runtime, principal=principal, case_id=case_id, body=body, intake=intake
    )

    async def operation() -> tuple[int, Any]:
        read = await service.create_referral(
            runtime=runtime,
            principal=principal,
            case_id=case_id,
            body=body,
            institution=institution,
            override_allowed=allowed(principal.role, "case:approve"),
            intake=intake,
        )
        return 201, read.model_dump(mode="json")

    response = await runtime.idempotency.run(
        scope=f"{principal.id}:create_referral:{case_id}",
        key=key,
        request=body.model_dump(mode="json"),
        operation=operation,
    )
    if response.status_code == 201:
        response.headers["ETag"] = etag(1)
    return response


@router.get("/cases/{case_id}/referrals", response_model=list[ReferralRead])
async def list_case_referrals(
    *,
    case_id: CaseIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
) -> list[ReferralRead]:
    """Every referral of one case, newest first."""
    case = await service.visible_case(runtime=runtime, principal=principal, case_id=case_id)
    referrals = sorted(case.get("referrals") or [], key=lambda r: r["referral_id"], reverse=True)
    return [to_staff_read(case, r) for r in referrals]


@router.get("/referrals", response_model=Page[ReferralRead])
async def list_referrals(
    *,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    page: PageDep,
    status: Annotated[Status | None, Query(description="Estado")] = None,
    institution_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Institución")
    ] = None,
    office: Annotated[Office | None, Query(description="Oficina")] = None,
) -> Page[ReferralRead]:
    """Referrals of the offices the caller sees (or one of them), by status or institution."""
    rows = await service.office_referrals(
        runtime=runtime,
        principal=principal,
        status=status,
        institution_id=institution_id,
        office=office,
    )
    return service.page_of(rows, page, to_staff_read)


@router.get("/referrals/overdue", response_model=Page[ReferralRead])
async def list_overdue_referrals(
    *,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    page: PageDep,
) -> Page[ReferralRead]:
    """Referrals waiting on an institution past their deadline (acknowledgement or answer)."""
    rows = await overdue.overdue_referrals(runtime=runtime, principal=principal)
    return service.page_of(rows, page, to_staff_read)


@router.get("/referrals/{referral_id}", response_model=ReferralRead)
async def get_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    response: Response,
) -> ReferralRead:
    """Read one referral (without its free text)."""
    found = await service.visible_referral(
        runtime=runtime, referral_id=referral_id, visible=staff_visible(principal)
    )
    return with_etag(response, to_staff_read(*found))


@router.get("/referrals/{referral_id}/details", response_model=ReferralDetails)
async def get_referral_details(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:read")],
    runtime: RuntimeDep,
    response: Response,
) -> ReferralDetails:
    """Read a referral's reason, shared facts and progress notes (recorded in the access log)."""
    case, referral = await service.visible_referral(
        runtime=runtime, referral_id=referral_id, visible=staff_visible(principal)
    )
    response.headers["Cache-Control"] = "no-store"
    return await service.logged_details(
        runtime=runtime, principal=principal, case=case, referral=referral
    )


async def _act(
    *,
    runtime: Runtime,
    principal: Principal,
    referral_id: str,
    action: Action,
    version: int,
    response: Response,
    **options: Any,
) -> ReferralRead:
    read = await service.staff_act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action=action,
        version=version,
        **options,
    )
    return with_etag(response, read)


@router.post("/referrals/{referral_id}/send", response_model=ReferralRead)
async def send_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
    intake: IntakeDep,
) -> ReferralRead:
    """Send the referral to the institution (by its integration: webhook, partner API, manual)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="send",
        version=version,
        response=response,
        intake=intake,
    )


@router.post("/referrals/{referral_id}/acknowledge", response_model=ReferralRead)
async def acknowledge_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Record that the institution acknowledged receipt (or acknowledge an incoming referral)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="acknowledge",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/accept", response_model=ReferralRead)
async def accept_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Record that the referral was accepted."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="accept",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/decline", response_model=ReferralRead)
async def decline_referral(
    *,
    referral_id: ReferralIdPath,
    body: DeclineBody,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Record that the referral was declined, with a reason."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="decline",
        version=version,
        response=response,
        decline_reason=body.reason,
    )


@router.post("/referrals/{referral_id}/complete", response_model=ReferralRead)
async def complete_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Record that what was requested was done."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="complete",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/progress-notes", response_model=ReferralRead)
async def add_progress_note(
    *,
    referral_id: ReferralIdPath,
    body: ProgressNoteCreate,
    principal: Annotated[Principal, require("referral:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Add a progress note (stored encrypted)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="progress",
        version=version,
        response=response,
        note=body.text,
    )


@router.post("/referrals/{referral_id}/revoke", response_model=ReferralRead)
async def revoke_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("case:approve")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> ReferralRead:
    """Revoke an open referral (coordinators only)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="revoke",
        version=version,
        response=response,
    )
