"""Partner API: an institution's credential sees and answers only the referrals addressed to it.

Everything else answers 404, exactly as a referral that does not exist, so a partner
cannot learn that another institution's referral exists.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from ruta_shared.api import Page, etag, problem
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import IfMatchDep, PageDep, ReferralIdPath, RuntimeDep
from ruta_referrals.intake.projection import consent_allows
from ruta_referrals.referrals.models import (
    DeclineBody,
    PartnerReferralRead,
    ProgressNoteCreate,
    ReferralDetails,
)
from ruta_referrals.referrals.rules import Action, partner_view, visible_to_partner
from ruta_referrals.referrals.service import NOT_FOUND
from ruta_referrals.referrals.views import logged_details, store
from ruta_referrals.runtime import Runtime

router = APIRouter(prefix="/partner", tags=["socios"])

Document = dict[str, Any]


def institution_of(principal: Principal) -> str:
    """The caller's institution (a partner principal always has one)."""
    if principal.institution_id is None:
        raise problem(404, NOT_FOUND)
    return principal.institution_id


def partner_visible(principal: Principal) -> Any:
    """A visibility check: the referral is addressed to the caller's institution."""
    institution_id = institution_of(principal)

    def check(_case: Document, referral: Document) -> bool:
        return visible_to_partner(referral, institution_id)

    return check


def to_partner_read(case: Document, referral: Document) -> PartnerReferralRead:
    """The partner's view of a stored referral."""
    return PartnerReferralRead.model_validate(partner_view(referral, case_code=case["case_code"]))


async def _find_visible(
    runtime: Runtime, principal: Principal, referral_id: str
) -> tuple[Document, Document]:
    found = await store(runtime).find(referral_id)
    if found is None or not partner_visible(principal)(*found):
        raise problem(404, NOT_FOUND)
    return found


@router.get("/referrals", response_model=Page[PartnerReferralRead])
async def list_partner_referrals(
    *,
    principal: Annotated[Principal, require("referral:partner_read")],
    runtime: RuntimeDep,
    page: PageDep,
) -> Page[PartnerReferralRead]:
    """The referrals addressed to the caller's institution, newest first."""
    institution_id = institution_of(principal)
    rows = await store(runtime).referrals(
        {"referrals.institution_id": institution_id}, partner_visible(principal)
    )
    chosen = rows[page.offset : page.offset + page.limit]
    return Page(
        items=[to_partner_read(c, r) for c, r in chosen],
        total=len(rows),
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/referrals/{referral_id}", response_model=PartnerReferralRead)
async def get_partner_referral(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:partner_read")],
    runtime: RuntimeDep,
    response: Response,
) -> PartnerReferralRead:
    """One referral addressed to the caller's institution."""
    case, referral = await _find_visible(runtime, principal, referral_id)
    response.headers["ETag"] = etag(referral["version"])
    return to_partner_read(case, referral)


@router.get("/referrals/{referral_id}/details", response_model=ReferralDetails)
async def get_partner_referral_details(
    *,
    referral_id: ReferralIdPath,
    principal: Annotated[Principal, require("referral:partner_read")],
    runtime: RuntimeDep,
    response: Response,
) -> ReferralDetails:
    """The reason, the facts the team chose to share and the progress notes (access logged)."""
    case, referral = await _find_visible(runtime, principal, referral_id)
    routes = store(runtime)
    victim = await routes.get_victim(referral["victim_id"]) or {}
    if not consent_allows(victim, referral["institution_kind"]) and not referral.get(
        "consent_override"
    ):
        raise problem(
            409,
            "La víctima retiró su consentimiento: los datos de la derivación ya no se comparten.",
        )
    return await logged_details(runtime, principal, case, referral, response)


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
    case, referral = await store(runtime).act(
        referral_id=referral_id,
        action=action,
        actor=principal.actor,
        expected_version=version,
        visible=partner_visible(principal),
        author_role="partner",
        **options,
    )
    response.headers["ETag"] = etag(referral["version"])
    return to_partner_read(case, referral)


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
