"""Partner operations: what an institution's credential may see of referrals, and its answers.

Anything not addressed to the caller's institution is answered exactly as a referral that
does not exist (404), so a partner cannot learn that another institution's referral exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ruta_shared.api import problem
from ruta_shared.security.principal import Principal

from ruta_referrals.intake_projection.rules import consent_allows
from ruta_referrals.partners.rules import partner_view, visible_to_partner
from ruta_referrals.referrals.models import PartnerReferralRead, ReferralDetails
from ruta_referrals.referrals.rules import Action, Visible
from ruta_referrals.referrals.service import (
    NOT_FOUND,
    act_on_referral,
    get_victim,
    list_referrals,
    logged_details,
    visible_referral,
)
from ruta_referrals.runtime import Runtime

Document = dict[str, Any]


def institution_of(principal: Principal) -> str:
    """The caller's institution (a partner principal always has one)."""
    if principal.institution_id is None:
        raise problem(404, NOT_FOUND)
    return principal.institution_id


def partner_visible(runtime: Runtime, principal: Principal) -> Visible:
    """A visibility check: addressed to the caller's institution and still in its view."""
    institution_id = institution_of(principal)
    now = runtime.clock()

    def check(_case: Document, referral: Document) -> bool:
        return visible_to_partner(
            referral, institution_id, now=now, retention=runtime.partner_retention
        )

    return check


def partner_reader(runtime: Runtime) -> Callable[[Document, Document], PartnerReferralRead]:
    """Turns a stored referral into its partner view (pseudonymous ids, referral code)."""

    def read(_case: Document, referral: Document) -> PartnerReferralRead:
        view = partner_view(referral, pseudonyms=runtime.pseudonyms)
        return PartnerReferralRead.model_validate(view)

    return read


async def partner_referrals(
    *, runtime: Runtime, principal: Principal
) -> list[tuple[Document, Document]]:
    """The referrals addressed to the caller's institution, newest first."""
    return await list_referrals(
        runtime=runtime,
        query={"referrals.institution_id": institution_of(principal)},
        keep=partner_visible(runtime, principal),
    )


async def partner_referral(
    *, runtime: Runtime, principal: Principal, referral_id: str
) -> tuple[Document, Document]:
    """One referral addressed to the caller's institution and its case; 404 otherwise."""
    return await visible_referral(
        runtime=runtime, referral_id=referral_id, visible=partner_visible(runtime, principal)
    )


async def partner_details(
    *, runtime: Runtime, principal: Principal, referral_id: str
) -> ReferralDetails:
    """The free text of a referral addressed to the caller, while consent lasts (access logged)."""
    case, referral = await partner_referral(
        runtime=runtime, principal=principal, referral_id=referral_id
    )
    victim = await get_victim(runtime=runtime, victim_id=referral["victim_id"]) or {}
    if not consent_allows(victim, referral["institution_kind"]) and not referral.get(
        "consent_override"
    ):
        raise problem(
            409,
            "La víctima retiró su consentimiento: los datos de la derivación ya no se comparten.",
        )
    return await logged_details(runtime=runtime, principal=principal, case=case, referral=referral)


async def partner_act(
    *,
    runtime: Runtime,
    principal: Principal,
    referral_id: str,
    action: Action,
    version: int,
    **options: Any,
) -> PartnerReferralRead:
    """The institution's answer to a referral addressed to it."""
    case, referral = await act_on_referral(
        runtime=runtime,
        referral_id=referral_id,
        action=action,
        actor=principal.actor,
        expected_version=version,
        visible=partner_visible(runtime, principal),
        author_role="partner",
        **options,
    )
    return partner_reader(runtime)(case, referral)
