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
        "project.registered",
        "project.updated",
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


def case_facts(case_read: Document) -> Document:
    """What referrals needs from intake's `GET /cases/{id}` answer: code, office, victims.

    Victims come out in the projection's own shape (case, office, consent per institution
    kind or purpose), so the same rules read either.
    """
    case_id = case_read["case_id"]
    office = case_read["office"]
    victims: dict[str, Document] = {
        v["victim_id"]: {
            "case_id": case_id,
            "office": office,
            "erased": v.get("erased_at") is not None,
            "consents": {},
        }
        for v in case_read.get("victims") or []
    }
    for consent in case_read.get("consents") or []:
        victim = victims.get(consent["victim_id"])
        key = (
            consent["institution_kind"]
            if consent["purpose"] == "disclosure"
            else consent["purpose"]
        )
        if victim is None or key is None or not consent.get("current"):
            continue
        granted = bool(consent["granted"]) and consent.get("withdrawn_at") is None
        previous = victim["consents"].get(key, {}).get("granted", False)
        victim["consents"][key] = {"granted": granted or previous}
    return {"case_code": case_read["case_code"], "office": office, "victims": victims}
