"""Applies intake's events to referrals' own copy: cases, victims, consent, erasures.

Each case's code and office, each victim's case and consent per institution kind, and
erasures, fed by `ruta.intake.events` (consumed in `ruta_referrals.workers`), applied once.

Referrals never reads intake's database: a referral can only be made once intake's events
about the case and victim have arrived here.
"""

from __future__ import annotations

import logging

from ruta_shared.events import EVENTS, EventEnvelope
from ruta_shared.events.catalog.intake import (
    CaseOpened,
    ConsentRecorded,
    ConsentWithdrawn,
    VictimDataErased,
    VictimRegistered,
)
from ruta_shared.idempotency import apply_once

from ruta_referrals.intake_projection.rules import HANDLED_TYPES, new_case_route_fields
from ruta_referrals.runtime import Runtime

log = logging.getLogger(__name__)


async def apply_intake_event(*, runtime: Runtime, envelope: EventEnvelope) -> None:
    """Apply one of intake's events to `case_routes` and `victims`, at most once."""
    if envelope.type not in HANDLED_TYPES:
        return
    payload = EVENTS.payload(envelope)
    if isinstance(payload, CaseOpened):
        # The API and the relay write this document too: FerretDB v1 needs the writes
        # of one document serialised (see ruta_shared.outbox.DocumentLocks).
        async with runtime.context.outbox.locks.hold(payload.case_id):
            await apply_once(
                runtime.cases.collection,
                doc_id=payload.case_id,
                envelope=envelope,
                update={
                    "$set": {
                        "case_id": payload.case_id,
                        "case_code": payload.case_code,
                        "office": payload.office,
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
                "$set": {"case_id": payload.case_id, "office": payload.office},
                "$setOnInsert": {"erased": False},
            },
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
