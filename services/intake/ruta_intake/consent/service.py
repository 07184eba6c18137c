"""Consent: versioned per victim and purpose (disclosure per institution kind); withdrawal."""

from __future__ import annotations

from typing import Any

from ruta_shared.aggregate import Change, RuleViolationError
from ruta_shared.events.catalog.intake import ConsentRecorded, ConsentWithdrawn
from ruta_shared.rerun import Transition, earlier_attempt, operation_marker
from ruta_shared.security.principal import Principal

from ruta_intake.cases.aggregate import change_case, find_item
from ruta_intake.cases.rules import check_instant, check_not_closed, utc_now
from ruta_intake.consent.models import ConsentCreate, ConsentRead, ConsentWithdraw
from ruta_intake.consent.rules import (
    check_guardian,
    check_guardian_relative,
    check_purpose,
    consent_read,
    new_version,
)
from ruta_intake.runtime import Runtime, not_found
from ruta_intake.victims.rules import check_not_erased

Document = dict[str, Any]


async def record_consent(
    *, runtime: Runtime, principal: Principal, case_id: str, victim_id: str, body: ConsentCreate
) -> tuple[ConsentRead, int]:
    """Record a new consent version (a guardian's for minors)."""
    check_purpose(body)
    now = utc_now()
    recorded_at = check_instant("body.recorded_at", body.recorded_at or now, now)
    # Under an Idempotency-Key a re-run (after a crash) finds the version it already recorded.
    marker = operation_marker("consent")

    def apply(case: Document) -> Change[ConsentRead]:
        if (written := earlier_attempt(case.get("consents") or [], marker)) is not None:
            return Change(result=consent_read(written, current=is_latest(case, written)))
        check_not_closed(case["status"])
        victim = find_item(case.get("victims", []), "victim_id", victim_id)
        check_not_erased(victim)
        check_guardian(victim["age_group"], body.given_by)
        if body.guardian_relative_id is not None:
            check_guardian_relative(
                case, victim_id=victim_id, relative_id=body.guardian_relative_id
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
            **marker,
        }
        return Change(
            update={"$push": {"consents": consent}, "$set": {"updated_at": now}},
            events=[
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
            result=consent_read(consent, current=True),
        )

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)


def is_latest(case: Document, consent: Document) -> bool:
    """Whether no later version of the consent was recorded."""
    versions = [c["version"] for c in case["consents"] if c["consent_id"] == consent["consent_id"]]
    return bool(consent["version"] == max(versions))


async def withdraw_consent(
    *, runtime: Runtime, principal: Principal, case_id: str, consent_id: str, body: ConsentWithdraw
) -> tuple[ConsentRead, int]:
    """Withdraw the current version of a granted consent."""
    now = utc_now()
    withdrawn_at = check_instant("body.withdrawn_at", body.withdrawn_at or now, now)
    # Under an Idempotency-Key a re-run (after a crash) finds the version it withdrew.
    transition = Transition("withdrawal")

    def apply(case: Document) -> Change[ConsentRead]:
        consents = [dict(c) for c in case.get("consents", [])]
        versions = [c for c in consents if c["consent_id"] == consent_id]
        if not versions:
            raise not_found()
        current = max(versions, key=lambda c: c["version"])
        if transition.done_in(current):
            return Change(result=consent_read(current, current=True))
        if not current["granted"] or current["withdrawn_at"] is not None:
            raise RuleViolationError(
                "consent_id",
                "este consentimiento no está otorgado o ya fue retirado",
                status_code=409,
            )
        if withdrawn_at < current["recorded_at"]:
            raise RuleViolationError(
                "body.withdrawn_at", "es anterior al registro del consentimiento"
            )
        current.update(withdrawn_at=withdrawn_at, **transition.stamp(current))
        return Change(
            update={"$set": {"consents": consents, "updated_at": now}},
            events=[
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
            result=consent_read(current, current=True),
        )

    return await change_case(runtime=runtime, principal=principal, case_id=case_id, apply=apply)
