"""The webhook delivery queue: one delivery per (event, institution), and what admins do with it.

A consumer group (`ruta_referrals.workers`) reads the service's own topic; each referral
event for an institution that integrates by webhook becomes one `webhook_deliveries`
document whose id is derived from the event id and the institution, so a re-delivered event
never enqueues twice. The dispatcher (also in workers) claims, sends and finishes them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError
from ruta_shared.aggregate import Change
from ruta_shared.api import problem
from ruta_shared.events import EVENTS, SYSTEM_ACTOR, EventData, EventEnvelope
from ruta_shared.events.catalog.referrals import WebhookDeliveryFailed

from ruta_referrals.institutions.service import get_institution
from ruta_referrals.referrals.rules import find_referral
from ruta_referrals.runtime import Runtime
from ruta_referrals.webhooks.models import DeliveryRead
from ruta_referrals.webhooks.rules import (
    WEBHOOK_EVENT_TYPES,
    delivery_id,
    may_deliver,
    to_read,
    webhook_body,
)

Document = dict[str, Any]


async def ensure_delivery_indexes(*, runtime: Runtime) -> None:
    """Due deliveries are found by status and time."""
    await runtime.deliveries.create_index(
        [("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"
    )


async def enqueue_delivery(*, runtime: Runtime, envelope: EventEnvelope) -> bool:
    """Queue the delivery of a referral event to its institution if it uses webhooks."""
    if envelope.type not in WEBHOOK_EVENT_TYPES:
        return False
    EVENTS.payload(envelope)  # validates the payload
    institution_id = str(envelope.data["institution_id"])
    institution = await get_institution(runtime=runtime, institution_id=institution_id)
    if institution is None or institution.get("integration") != "webhook":
        return False
    case = await runtime.cases.get(envelope.subject)
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
        "body": webhook_body(envelope, referral, runtime.pseudonyms),
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
        await runtime.deliveries.insert_one(document)
    except DuplicateKeyError:
        return False  # a re-delivered event: already queued
    return True


async def claim_delivery(*, runtime: Runtime, now: datetime, lease: timedelta) -> Document | None:
    """Take one due delivery (or one whose worker's lease ran out) for this worker."""
    return await runtime.deliveries.find_one_and_update(
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


async def still_deliverable(*, runtime: Runtime, claimed: Document) -> bool:
    """Whether the delivery's referral is still in its institution's view (checked at delivery)."""
    case = await runtime.cases.get(claimed["case_id"])
    referral = None if case is None else find_referral(case, claimed["referral_id"])
    return may_deliver(
        claimed["event_type"],
        referral,
        claimed["institution_id"],
        now=runtime.clock(),
        retention=runtime.partner_retention,
    )


async def finish_delivery(*, runtime: Runtime, claimed: Document, update: Document) -> bool:
    """Record an attempt's outcome, only if this worker still holds the lease."""
    result = await runtime.deliveries.update_one(
        {"_id": claimed["_id"], "status": "in_flight", "lease_until": claimed["lease_until"]},
        update,
    )
    return result.matched_count == 1


async def publish_delivery_failed(
    *, runtime: Runtime, claimed: Document, attempts: int, status_code: int | None, now: datetime
) -> None:
    """Publish `webhook.delivery_failed` once per dead-lettering (keyed by case id)."""
    marker = f"{claimed['_id']}:{claimed.get('replays', 0)}"

    def apply(case: Document) -> Change[None]:
        if marker in (case.get("webhook_failures") or []):
            return Change()  # published before a crash: not twice
        payload: EventData = WebhookDeliveryFailed(
            case_id=case["_id"],
            referral_id=claimed["referral_id"],
            institution_id=claimed["institution_id"],
            delivery_id=claimed["_id"],
            attempts=attempts,
            last_status=status_code,
            failed_at=now,
        )
        return Change({"$push": {"webhook_failures": marker}}, [payload])

    await runtime.cases.change(claimed["case_id"], apply=apply, actor=SYSTEM_ACTOR)


async def list_deliveries(
    *, runtime: Runtime, status: str | None, institution_id: str | None, limit: int, offset: int
) -> tuple[list[DeliveryRead], int]:
    """A page of deliveries, newest first, and how many match."""
    query: Document = {}
    if status is not None:
        query["status"] = status
    if institution_id is not None:
        query["institution_id"] = institution_id
    total = await runtime.deliveries.count_documents(query)
    docs = await runtime.deliveries.find(
        query, {"body": 0}, sort=[("created_at", -1)], skip=offset, limit=limit
    ).to_list()
    return [to_read(d) for d in docs], total


async def replay_delivery(*, runtime: Runtime, delivery: str) -> DeliveryRead:
    """Put a dead-lettered delivery back in the queue (same webhook-id); 404 or 409 otherwise."""
    doc = await runtime.deliveries.find_one_and_update(
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
    if doc is None:
        if await runtime.deliveries.find_one({"_id": delivery}, {"body": 0}) is None:
            raise problem(404, "Entrega no encontrada.")
        raise problem(409, "Solo se puede reenviar una entrega que no se pudo entregar.")
    runtime.webhook_wakeup.set()
    return to_read(doc)
