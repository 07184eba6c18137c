"""The webhook delivery queue: one delivery per (event, institution), enqueued from Kafka.

A consumer group reads the service's own topic; each referral event for an institution
that integrates by webhook becomes one `webhook_deliveries` document whose id is derived
from the event id and the institution, so a re-delivered event never enqueues twice.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from ruta_shared.events import EVENTS, EventEnvelope

from ruta_referrals.institutions.service import InstitutionStore
from ruta_referrals.intake.projection import CASE_ROUTES
from ruta_referrals.referrals.rules import partner_view
from ruta_referrals.referrals.service import find_referral

log = logging.getLogger(__name__)

DELIVERIES: Final = "webhook_deliveries"
DELIVERY_NAMESPACE: Final = uuid.UUID("6f0b9d1e-3c1a-4e55-9a53-2f7d0f6c5a11")
# What an institution is told about (never `referral.requested`: it is not sent yet).
WEBHOOK_EVENT_TYPES: Final = frozenset(
    {
        "referral.sent",
        "referral.acknowledged",
        "referral.accepted",
        "referral.declined",
        "referral.progress_reported",
        "referral.completed",
        "referral.revoked",
        "referral.overdue",
    }
)
# Event fields an institution may see beyond the referral's partner view.
EXTRA_FIELDS: Final = ("channel", "reason", "stage", "due_at")

Document = dict[str, Any]


def delivery_id(event_id: str, institution_id: str) -> str:
    """The id of the delivery of one event to one institution (stable: dedupes re-deliveries)."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{event_id}/{institution_id}"))


def webhook_body(envelope: EventEnvelope, referral: Document, case_code: str) -> str:
    """The JSON body: Standard Webhooks' {type, timestamp, data}, with only what the partner sees.

    No free text and no personal data: the reason and shared facts are read through the
    partner API, where each read is recorded.
    """
    data = partner_view(referral, case_code=case_code)
    data.pop("version", None)
    status_by_type = {
        "referral.sent": "sent",
        "referral.acknowledged": "acknowledged",
        "referral.accepted": "accepted",
        "referral.declined": "declined",
        "referral.completed": "completed",
        "referral.revoked": "revoked",
    }
    if envelope.type in status_by_type:
        data["status"] = status_by_type[envelope.type]
    for name in EXTRA_FIELDS:
        if name in envelope.data:
            data[f"event_{name}"] = envelope.data[name]
    body = {
        "type": envelope.type,
        "timestamp": envelope.occurred_at.isoformat(),
        "event_id": str(envelope.id),
        "data": data,
    }
    return json.dumps(body, default=str, separators=(",", ":"), sort_keys=True)


class DeliveryStore:
    """The `webhook_deliveries` collection."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = database[DELIVERIES]
        self._cases: AsyncCollection[Document] = database[CASE_ROUTES]

    async def ensure_indexes(self) -> None:
        """Due deliveries are found by status and time."""
        await self.collection.create_index(
            [("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"
        )

    async def enqueue(self, envelope: EventEnvelope, institutions: InstitutionStore) -> bool:
        """Queue the delivery of a referral event to its institution if it uses webhooks."""
        if envelope.type not in WEBHOOK_EVENT_TYPES:
            return False
        EVENTS.payload(envelope)  # validates the payload
        institution_id = str(envelope.data["institution_id"])
        institution = await institutions.get(institution_id)
        if institution is None or institution.get("integration") != "webhook":
            return False
        case = await self._cases.find_one({"_id": envelope.subject}, {"_outbox": 0})
        referral = None if case is None else find_referral(case, envelope.data["referral_id"])
        if case is None or referral is None or referral["direction"] != "outgoing":
            return False
        now = datetime.now(UTC)
        document = {
            "_id": delivery_id(str(envelope.id), institution_id),
            "event_id": str(envelope.id),
            "event_type": envelope.type,
            "case_id": envelope.subject,
            "referral_id": referral["referral_id"],
            "institution_id": institution_id,
            "body": webhook_body(envelope, referral, case["case_code"]),
            "status": "pending",
            "attempts": 0,
            "replays": 0,
            "next_attempt_at": now,
            "lease_until": None,
            "last_status": None,
            "last_error": None,
            "created_at": now,
            "history": [],
        }
        try:
            await self.collection.insert_one(document)
        except DuplicateKeyError:
            return False  # a re-delivered event: already queued
        return True

    async def claim(self, now: datetime, lease: timedelta) -> Document | None:
        """Take one due delivery (or one whose worker's lease ran out) for this worker."""
        return await self.collection.find_one_and_update(
            {
                "$or": [
                    {"status": "pending", "next_attempt_at": {"$lte": now}},
                    {"status": "in_flight", "lease_until": {"$lte": now}},
                ]
            },
            {"$set": {"status": "in_flight", "lease_until": now + lease}},
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def finish(self, claimed: Document, update: Document) -> bool:
        """Record an attempt's outcome, only if this worker still holds the lease."""
        result = await self.collection.update_one(
            {"_id": claimed["_id"], "status": "in_flight", "lease_until": claimed["lease_until"]},
            update,
        )
        return result.matched_count == 1

    async def list(
        self, *, status: str | None, institution_id: str | None, limit: int, offset: int
    ) -> tuple[list[Document], int]:
        """A page of deliveries, newest first."""
        query: Document = {}
        if status is not None:
            query["status"] = status
        if institution_id is not None:
            query["institution_id"] = institution_id
        total = await self.collection.count_documents(query)
        docs = await self.collection.find(
            query, {"body": 0}, sort=[("created_at", -1)], skip=offset, limit=limit
        ).to_list()
        return docs, total

    async def get(self, delivery: str) -> Document | None:
        """One delivery."""
        return await self.collection.find_one({"_id": delivery}, {"body": 0})

    async def replay(self, delivery: str) -> Document | None:
        """Put a dead-lettered delivery back in the queue (same webhook-id); None if not dead."""
        return await self.collection.find_one_and_update(
            {"_id": delivery, "status": "dead"},
            {
                "$set": {
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": datetime.now(UTC),
                    "lease_until": None,
                },
                "$inc": {"replays": 1},
            },
            return_document=ReturnDocument.AFTER,  # no projection: FerretDB v1 refuses it here
        )
