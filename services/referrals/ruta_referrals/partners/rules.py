"""Pure rules of the partner API: what an institution may see of a referral addressed to it."""

from __future__ import annotations

from typing import Any, Final

Referral = dict[str, Any]

PARTNER_FIELDS: Final = (
    "referral_id",
    "victim_id",
    "institution_id",
    "services_requested",
    "urgency",
    "due_on",
    "status",
    "sent_at",
    "acknowledged_at",
    "accepted_at",
    "declined_at",
    "decline_reason",
    "completed_at",
    "revoked_at",
    "version",
)


def partner_view(referral: Referral, *, case_code: str) -> dict[str, Any]:
    """What the institution a referral is addressed to may see (no office, no internal ids)."""
    view = {name: referral.get(name) for name in PARTNER_FIELDS}
    view["case_code"] = case_code
    view["has_shared_facts"] = referral.get("shared_facts") is not None
    return view


def visible_to_partner(referral: Referral, institution_id: str) -> bool:
    """A partner sees outgoing referrals addressed to it, once they were sent."""
    return (
        referral["institution_id"] == institution_id
        and referral["direction"] == "outgoing"
        and referral.get("sent_at") is not None
    )
