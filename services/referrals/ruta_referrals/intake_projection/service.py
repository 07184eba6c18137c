"""Applies intake's events to referrals' own copy: cases, victims, consent, erasures.

Each case's code and office, each victim's case and consent per institution kind, and
erasures, fed by `ruta.intake.events` (consumed in `ruta_referrals.workers`), applied once.

Referrals never reads intake's database. When a request needs a case or a victim whose
events have not arrived yet, `known_case` and `known_victim` ask intake's HTTP API as the
caller (`intake_api.IntakeLookup`).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from pymongo.errors import DuplicateKeyError
from ruta_shared.events import EVENTS, EventEnvelope
from ruta_shared.events.catalog.intake import (
    CaseOpened,
    ConsentRecorded,
    ConsentWithdrawn,
    ProjectRegistered,
    ProjectUpdated,
    VictimDataErased,
    VictimRegistered,
)
from ruta_shared.idempotency import apply_once
from ruta_shared.projects import check_project_fits

from ruta_referrals.intake_projection.intake_api import IntakeLookup
from ruta_referrals.intake_projection.rules import (
    HANDLED_TYPES,
    consent_allows,
    new_case_route_fields,
)
from ruta_referrals.runtime import Runtime

log = logging.getLogger(__name__)

Document = dict[str, Any]


async def known_case(
    *, runtime: Runtime, case_id: str, intake: IntakeLookup | None = None
) -> Document | None:
    """The case's route document; one intake has but whose `case.opened` has not arrived is
    asked of intake and its route document created (code and office never change)."""
    case = await runtime.cases.get(case_id)
    if case is not None or intake is None:
        return case
    facts = await intake.case(case_id)
    if facts is None:
        return None
    # `case.opened` may arrive meanwhile (DuplicateKeyError): its document is the same.
    with contextlib.suppress(DuplicateKeyError):
        await runtime.cases.collection.update_one(
            {"_id": case_id},
            {
                "$setOnInsert": {
                    "case_id": case_id,
                    "case_code": facts["case_code"],
                    "office": facts["office"],
                    **new_case_route_fields(),
                }
            },
            upsert=True,
        )
    return await runtime.cases.get(case_id)


async def known_victim(
    *,
    runtime: Runtime,
    case_id: str,
    victim_id: str,
    consent_to: str | None = None,
    intake: IntakeLookup | None = None,
) -> Document | None:
    """The victim as referrals knows her (case, office, consent); when the projection lacks
    her in this case, or lacks consent for `consent_to`, intake's answer for this request."""
    victim = await runtime.victims.find_one({"_id": victim_id})
    current = (
        victim is not None
        and victim.get("case_id") == case_id
        and (consent_to is None or consent_allows(victim, consent_to))
    )
    if current or intake is None:
        return victim
    facts = await intake.case(case_id)
    if facts is None:
        return victim
    found: Document | None = facts["victims"].get(victim_id)
    return found if found is not None else victim


async def check_project(
    *, runtime: Runtime, code: str | None, office: str, intake: IntakeLookup, field: str
) -> None:
    """422 naming `field` unless `code` is absent or a registered project of the office:
    the registry's events, or intake's API (as the caller) when they have not arrived."""
    if code is None:
        return
    project = await runtime.projects.find_one({"_id": code})
    if project is None:
        project = await intake.project(code)
    check_project_fits(project, office=office, field=field)


async def apply_intake_event(*, runtime: Runtime, envelope: EventEnvelope) -> None:
    """Apply one of intake's events to `case_routes` and `victims`, at most once."""
    if envelope.type not in HANDLED_TYPES:
        return
    payload = EVENTS.payload(envelope)
    if isinstance(payload, CaseOpened):
        # The API and the relay (of any replica) write this document too: each update is
        # atomic (MongoDB; FerretDB with our patch), so none of them needs a lock.
        await apply_once(
            runtime.cases.collection,
            doc_id=payload.case_id,
            envelope=envelope,
            update={
                "$set": {
                    "case_id": payload.case_id,
                    "case_code": payload.case_code,
                    "office": payload.office,
                    # The case plan's template is chosen by crime type.
                    "crime_types": list(payload.crime_types),
                },
                "$setOnInsert": new_case_route_fields(),
            },
        )
    elif isinstance(payload, VictimRegistered):
        await apply_once(
            runtime.victims,
            doc_id=payload.victim_id,
            envelope=envelope,
            update={
                "$set": {
                    "case_id": payload.case_id,
                    "office": payload.office,
                    "age_group": payload.age_group,  # and by age group
                },
                "$setOnInsert": {"erased": False},
            },
        )
    elif isinstance(payload, ProjectRegistered | ProjectUpdated):
        facts = payload.model_dump(mode="json", include={"name", "funder", "offices"})
        await apply_once(
            runtime.projects, doc_id=payload.project_code, envelope=envelope, update={"$set": facts}
        )
    elif isinstance(payload, ConsentRecorded):
        await _consent(runtime, envelope, payload, granted=payload.granted)
    elif isinstance(payload, ConsentWithdrawn):
        await _consent(runtime, envelope, payload, granted=False)
    elif isinstance(payload, VictimDataErased):
        # Shred first: if we crash before the marker, the redelivery shreds again (no-op).
        await runtime.keys.destroy("victim", payload.victim_id)
        await apply_once(
            runtime.victims,
            doc_id=payload.victim_id,
            envelope=envelope,
            update={"$set": {"erased": True, "case_id": payload.case_id}},
        )
        log.info("victim erased in referrals", extra={"victim_id": payload.victim_id})


async def _consent(
    runtime: Runtime,
    envelope: EventEnvelope,
    payload: ConsentRecorded | ConsentWithdrawn,
    *,
    granted: bool,
) -> None:
    key = payload.institution_kind if payload.purpose == "disclosure" else payload.purpose
    if key is None:
        return  # a disclosure consent without a kind gives nothing to check against
    await apply_once(
        runtime.victims,
        doc_id=payload.victim_id,
        envelope=envelope,
        update={
            "$set": {
                f"consents.{key}": {
                    "granted": granted,
                    "consent_id": payload.consent_id,
                    "consent_version": payload.consent_version,
                },
                "case_id": payload.case_id,
            }
        },
    )
