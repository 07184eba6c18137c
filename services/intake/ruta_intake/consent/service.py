"""Consent: versioned per victim and purpose (disclosure per institution kind); withdrawal."""

from __future__ import annotations

from typing import Any

from ruta_shared.events.catalog.intake import ConsentRecorded, ConsentWithdrawn
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_intake.deps import Intake
from ruta_intake.models import ConsentCreate, ConsentRead, ConsentWithdraw
from ruta_intake.rules import RuleError, check_guardian, check_instant, check_not_closed, utc_now
from ruta_intake.store import Change, change_case, find_item, not_found

Document = dict[str, Any]


def _check_purpose(body: ConsentCreate) -> None:
    if body.purpose == "disclosure" and body.institution_kind is None:
        raise RuleError(
            "body.institution_kind", "indique a qué tipo de institución se autoriza comunicar datos"
        )
    if body.purpose != "disclosure" and body.institution_kind is not None:
        raise RuleError(
            "body.institution_kind", "solo se indica para comunicar datos a una institución"
        )
    if body.guardian_relative_id is not None and body.given_by != "guardian":
        raise RuleError("body.guardian_relative_id", "solo se indica si consiente un tutor")


def new_version(case: Document, *, victim_id: str, body: ConsentCreate) -> tuple[str, int]:
    """The consent id for this victim, purpose and institution kind, and its next version."""
    versions = [
        c
        for c in case.get("consents", [])
        if c["victim_id"] == victim_id
        and c["purpose"] == body.purpose
        and c["institution_kind"] == body.institution_kind
    ]
    if not versions:
        return str(uuid7()), 1
    return versions[0]["consent_id"], max(c["version"] for c in versions) + 1


async def record_consent(
    intake: Intake, *, principal: Principal, case_id: str, victim_id: str, body: ConsentCreate
) -> tuple[ConsentRead, int]:
    """Record a new consent version (a guardian's for minors)."""
    _check_purpose(body)
    now = utc_now()
    recorded_at = check_instant("body.recorded_at", body.recorded_at or now, now)

    def build(case: Document) -> Change[ConsentRead]:
        check_not_closed(case["status"])
        victim = find_item(case.get("victims", []), "victim_id", victim_id)
        if victim.get("erased_at") is not None:
            raise RuleError(
                "victim_id", "los datos de esta víctima fueron borrados", status_code=409
            )
        check_guardian(victim["age_group"], body.given_by)
        if body.guardian_relative_id is not None:
            relative = next(
                (
                    r
                    for r in case.get("relatives", [])
                    if r["relative_id"] == body.guardian_relative_id and r["victim_id"] == victim_id
                ),
                None,
            )
            if relative is None:
                raise RuleError(
                    "body.guardian_relative_id", "no es un familiar registrado de esta víctima"
                )
        consent_id, version = new_version(case, victim_id=victim_id, body=body)
        consent = {
            "consent_id": consent_id,
            "victim_id": victim_id,
            "version": version,
            "purpose": body.purpose,
            "institution_kind": body.institution_kind,
            "given_by": body.given_by,
            "granted": body.granted,
            "guardian_relative_id": body.guardian_relative_id,
            "recorded_at": recorded_at,
            "withdrawn_at": None,
            "recorded_by": principal.id,
        }
        return Change(
            update={"$push": {"consents": consent}, "$set": {"updated_at": now}},
            payloads=[
                ConsentRecorded(
                    case_id=case_id,
                    victim_id=victim_id,
                    consent_id=consent_id,
                    consent_version=version,
                    purpose=body.purpose,
                    institution_kind=body.institution_kind,
                    given_by=body.given_by,
                    granted=body.granted,
                    recorded_at=recorded_at,
                )
            ],
            result=ConsentRead(
                **{k: v for k, v in consent.items() if k != "recorded_by"}, current=True
            ),
        )

    return await change_case(intake, case_id=case_id, principal=principal, build=build)


async def withdraw_consent(
    intake: Intake, *, principal: Principal, case_id: str, consent_id: str, body: ConsentWithdraw
) -> tuple[ConsentRead, int]:
    """Withdraw the current version of a granted consent."""
    now = utc_now()
    withdrawn_at = check_instant("body.withdrawn_at", body.withdrawn_at or now, now)

    def build(case: Document) -> Change[ConsentRead]:
        consents = [dict(c) for c in case.get("consents", [])]
        versions = [c for c in consents if c["consent_id"] == consent_id]
        if not versions:
            raise not_found()
        current = max(versions, key=lambda c: c["version"])
        if not current["granted"] or current["withdrawn_at"] is not None:
            raise RuleError(
                "consent_id",
                "este consentimiento no está otorgado o ya fue retirado",
                status_code=409,
            )
        if withdrawn_at < current["recorded_at"]:
            raise RuleError("body.withdrawn_at", "es anterior al registro del consentimiento")
        current["withdrawn_at"] = withdrawn_at
        return Change(
            update={"$set": {"consents": consents, "updated_at": now}},
            payloads=[
                ConsentWithdrawn(
                    case_id=case_id,
                    victim_id=current["victim_id"],
                    consent_id=consent_id,
                    consent_version=current["version"],
                    purpose=current["purpose"],
                    institution_kind=current["institution_kind"],
                    withdrawn_at=withdrawn_at,
                )
            ],
            result=ConsentRead(
                **{k: v for k, v in current.items() if k != "recorded_by"}, current=True
            ),
        )

    return await change_case(intake, case_id=case_id, principal=principal, build=build)
