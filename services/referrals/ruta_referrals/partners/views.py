"""Routes of the partner API: an institution sees and answers only referrals addressed to it.

Everything else answers 404, exactly as a referral that does not exist, so a partner
cannot learn that another institution's referral exists.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from ruta_shared.api import Page, etag
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import IfMatchDep, PageDep, ReferralIdPath, RuntimeDep
from ruta_referrals.partners.service import (
    partner_act,
    partner_details,
    partner_reader,
    partner_referral,
    partner_referrals,
)
from ruta_referrals.referrals.models import (
    DeclineBody,
    PartnerReferralRead,
    ProgressNoteCreate,
    ReferralDetails,
)
from ruta_referrals.referrals.rules import Action
from ruta_referrals.referrals.service import page_of
from ruta_referrals.runtime import Runtime

router = APIRouter(prefix="/partner", tags=["socios"])


@router.get("/referrals", response_model=Page[PartnerReferralRead])
async def list_partner_referrals(
    *,
    principal: Annotated[Principal, require("referral:partner_read")],
    runtime: RuntimeDep,
    page: PageDep,
) -> Page[PartnerReferralRead]:
    """The referrals addressed to the caller's institution, newest first."""
    rows = await partner_referrals(runtime=runtime, principal=principal)
    return page_of(rows, page, partner_reader(runtime))


@router.get("/referrals/{referral_id}", response_model=PartnerReferralRead)
async def get_partner_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:partner_read")],
    runtime: RuntimeDep,
    response: Response,
) -> PartnerReferralRead:
    """One referral addressed to the caller's institution."""
    case, referral = await partner_referral(
        runtime=runtime, principal=principal, referral_id=referral_id
    )
    response.headers["ETag"] = etag(referral["version"])
    return partner_reader(runtime)(case, referral)


@router.get("/referrals/{referral_id}/details", response_model=ReferralDetails)
async def get_partner_referral_details(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:partner_read")],
    runtime: RuntimeDep,
    response: Response,
) -> ReferralDetails:
    """The reason, the facts the team chose to share and the progress notes (access logged)."""
    details = await partner_details(runtime=runtime, principal=principal, referral_id=referral_id)
    response.headers["Cache-Control"] = "no-store"
    return details


async def _act(
    *,
    runtime: Runtime,
    principal: Principal,
    referral_id: str,
    action: Action,
    version: int,
    response: Response,
    **options: Any,
) -> PartnerReferralRead:
    read = await partner_act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action=action,
        version=version,
        **options,
    )
    response.headers["ETag"] = etag(read.version)
    return read


@router.post("/referrals/{referral_id}/acknowledge", response_model=PartnerReferralRead)
async def partner_acknowledge(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:partner_act")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> PartnerReferralRead:
    """Acknowledge receipt of the referral."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="acknowledge",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/accept", response_model=PartnerReferralRead)
async def partner_accept(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:partner_act")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> PartnerReferralRead:
    """Accept the referral."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="accept",
        version=version,
        response=response,
    )


@router.post("/referrals/{referral_id}/decline", response_model=PartnerReferralRead)
async def partner_decline(
    *,
    referral_id: ReferralIdPath,
    body: DeclineBody,
    principal: Annotated[Principal, require("referral:partner_act")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> PartnerReferralRead:
    """Decline the referral, with a reason code."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="decline",
        version=version,
        response=response,
        decline_reason=body.reason,
    )


@router.post("/referrals/{referral_id}/progress-notes", response_model=PartnerReferralRead)
async def partner_progress_note(
    *,
    referral_id: ReferralIdPath,
    body: ProgressNoteCreate,
    principal: Annotated[Principal, require("referral:partner_act")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> PartnerReferralRead:
    """Report progress on the referral (the note is stored encrypted)."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="progress",
        version=version,
        response=response,
        note=body.text,
    )


@router.post("/referrals/{referral_id}/complete", response_model=PartnerReferralRead)
async def partner_complete(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:partner_act")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> PartnerReferralRead:
    """Report that what was requested was done."""
    return await _act(
        runtime=runtime,
        principal=principal,
        referral_id=referral_id,
        action="complete",
        version=version,
        response=response,
    )
