"""Pure rules of the intake projection: what a case's route starts with, what consent allows."""

from __future__ import annotations

from typing import Any, Final

from ruta_shared.outbox import OUTBOX_FIELD, PENDING_FIELD, SEQUENCE_FIELD

HANDLED_TYPES: Final = frozenset(
    {
        "case.opened",
        "victim.registered",
        "consent.recorded",
        "consent.withdrawn",
        "victim.data_erased",
    }
)

Document = dict[str, Any]


def new_case_route_fields() -> Document:
    """The fields a case's route document starts with (its outbox included)."""
    return {
        SEQUENCE_FIELD: 0,
        OUTBOX_FIELD: [],
        PENDING_FIELD: False,
        "referrals": [],
        "returns": [],
        "milestones": [],
        "webhook_failures": [],
    }


def consent_allows(victim: Document, institution_kind: str) -> bool:
    """Whether the victim (or guardian) consented to disclosure to this kind of institution."""
    consent = (victim.get("consents") or {}).get(institution_kind)
    return bool(consent and consent.get("granted"))
