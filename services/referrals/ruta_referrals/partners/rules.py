"""Pure rules of the partner API: what an institution may see of a referral addressed to it.

An institution never sees intake's victim id nor the case code (office and sequence): it
sees a pseudonym of the victim made for it alone, and a referral code. Both are HMACs with
the blind-index key from the key material (never stored in the database), each in its own
namespace, so two institutions' views of one victim share no identifier.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

Referral = dict[str, Any]

PARTNER_FIELDS: Final = (
    "referral_id",
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
# Once revoked or declined, a referral is gone from its institution's view.
GONE_STATUSES: Final = frozenset({"revoked", "declined"})
VICTIM_PREFIX: Final = "vp-"
CODE_PREFIX: Final = "DER"


class Keyed(Protocol):
    """A keyed hash (ruta_shared.security.crypto.BlindIndex has this shape)."""

    def compute(self, kind: str, normalised: str) -> str:
        """The hex HMAC of `normalised` in the namespace `kind`."""
        ...


@dataclass(frozen=True)
class Pseudonyms:
    """Partner-facing identifiers: per-institution victim pseudonyms and referral codes."""

    keyed: Keyed

    def victim(self, institution_id: str, victim_id: str) -> str:
        """The victim's id as one institution sees it (stable for it, unlinkable to others)."""
        return (
            VICTIM_PREFIX + self.keyed.compute(f"partner-victim:{institution_id}", victim_id)[:32]
        )

    def referral_code(self, referral_id: str) -> str:
        """A referral's code for its institution (no office, no sequence): DER-XXXX-XXXX-XXXX."""
        digest = bytes.fromhex(self.keyed.compute("partner-referral-code", referral_id))
        letters = base64.b32encode(hashlib.sha256(digest).digest()).decode()[:12]
        return "-".join([CODE_PREFIX, letters[:4], letters[4:8], letters[8:12]])


def partner_view(referral: Referral, *, pseudonyms: Pseudonyms) -> dict[str, Any]:
    """What the institution a referral is addressed to may see (no office, no internal ids)."""
    view = {name: referral.get(name) for name in PARTNER_FIELDS}
    view["victim_id"] = pseudonyms.victim(referral["institution_id"], referral["victim_id"])
    view["referral_code"] = pseudonyms.referral_code(referral["referral_id"])
    view["has_shared_facts"] = referral.get("shared_facts") is not None
    return view


def addressed_to(referral: Referral, institution_id: str) -> bool:
    """Whether the referral is an outgoing one sent to this institution."""
    return (
        referral["institution_id"] == institution_id
        and referral["direction"] == "outgoing"
        and referral.get("sent_at") is not None
    )


def visible_to_partner(
    referral: Referral, institution_id: str, *, now: datetime, retention: timedelta
) -> bool:
    """A partner sees referrals sent to it: not once revoked or declined, and a completed one
    only for `retention` after its completion."""
    if not addressed_to(referral, institution_id) or referral["status"] in GONE_STATUSES:
        return False
    completed_at = referral.get("completed_at")
    if referral["status"] == "completed" and completed_at is not None:
        return bool(now < completed_at + retention)
    return True
