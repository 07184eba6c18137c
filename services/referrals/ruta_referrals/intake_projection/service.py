"""Keeps referrals' own copy of what intake decided: each case's code and office, each victim's
case and consent per institution kind, and erasures. Fed by `ruta.intake.events`, applied once.

Referrals never reads intake's database: a referral can only be made once intake's events
about the case and victim have arrived here.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.events import EVENTS, EventEnvelope
from ruta_shared.events.catalog.intake import (
    CaseOpened,
    ConsentRecorded,
    ConsentWithdrawn,
    VictimDataErased,
    VictimRegistered,
)
from ruta_shared.idempotency import apply_once
from ruta_shared.outbox import OUTBOX_FIELD, PENDING_FIELD, SEQUENCE_FIELD, DocumentLocks
from ruta_shared.security.crypto import DataKeyStore

log = logging.getLogger(__name__)

CASE_ROUTES: Final = "case_routes"
VICTIMS: Final = "victims"
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


class IntakeProjection:
    """Applies intake's events to the `case_routes` and `victims` collections, at most once."""

    def __init__(
        self, database: AsyncDatabase[Document], keys: DataKeyStore, locks: DocumentLocks
    ) -> None:
        self._cases = database[CASE_ROUTES]
        self._victims = database[VICTIMS]
        self._keys = keys
        self._locks = locks

    async def handle(self, envelope: EventEnvelope) -> None:
        """Apply one event (other types are ignored)."""
        if envelope.type not in HANDLED_TYPES:
            return
        payload = EVENTS.payload(envelope)
        if isinstance(payload, CaseOpened):
            # The API and the relay write this document too: FerretDB v1 needs the writes
            # of one document serialised (see ruta_shared.outbox.DocumentLocks).
            async with self._locks.hold(payload.case_id):
                await apply_once(
                    self._cases,
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
                self._victims,
                doc_id=payload.victim_id,
                envelope=envelope,
                update={
                    "$set": {"case_id": payload.case_id, "office": payload.office},
                    "$setOnInsert": {"erased": False},
                },
            )
        elif isinstance(payload, ConsentRecorded):
            await self._consent(envelope, payload.victim_id, payload, granted=payload.granted)
        elif isinstance(payload, ConsentWithdrawn):
            await self._consent(envelope, payload.victim_id, payload, granted=False)
        elif isinstance(payload, VictimDataErased):
            # Shred first: if we crash before the marker, the redelivery shreds again (no-op).
            await self._keys.destroy("victim", payload.victim_id)
            await apply_once(
                self._victims,
                doc_id=payload.victim_id,
                envelope=envelope,
                update={"$set": {"erased": True, "case_id": payload.case_id}},
            )
            log.info("victim erased in referrals", extra={"victim_id": payload.victim_id})

    async def _consent(
        self,
        envelope: EventEnvelope,
        victim_id: str,
        payload: ConsentRecorded | ConsentWithdrawn,
        *,
        granted: bool,
    ) -> None:
        key = payload.institution_kind if payload.purpose == "disclosure" else payload.purpose
        if key is None:
            return  # a disclosure consent without a kind gives nothing to check against
        await apply_once(
            self._victims,
            doc_id=victim_id,
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
