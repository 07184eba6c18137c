"""Pure webhook rules: delivery ids, the partner-safe body, Standard Webhooks signing, backoff."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from math import floor
from typing import Any, Final

from ruta_shared.events import EventEnvelope
from standardwebhooks.webhooks import Webhook

from ruta_referrals.partners.rules import Pseudonyms, partner_view, visible_to_partner
from ruta_referrals.webhooks.models import DeliveryRead

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
# The last word on a referral that leaves the institution's view: only that it is gone.
FAREWELL_TYPES: Final = frozenset({"referral.revoked", "referral.declined"})

Document = dict[str, Any]


def delivery_id(event_id: str, institution_id: str) -> str:
    """The id of the delivery of one event to one institution (stable: dedupes re-deliveries)."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{event_id}/{institution_id}"))


def webhook_body(envelope: EventEnvelope, referral: Document, pseudonyms: Pseudonyms) -> str:
    """The JSON body: Standard Webhooks' {type, timestamp, data}, with only what the partner sees.

    No free text and no personal data: the reason and shared facts are read through the
    partner API, where each read is recorded. A revocation or a decline says only which
    referral is gone (the referral then leaves the institution's view).
    """
    view = partner_view(referral, pseudonyms=pseudonyms)
    if envelope.type in FAREWELL_TYPES:
        data: Document = {k: view[k] for k in ("referral_id", "referral_code", "institution_id")}
    else:
        data = view
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
        if name in envelope.data:  # codes only (a decline's reason code, a stage)
            data[f"event_{name}"] = envelope.data[name]
    body = {
        "type": envelope.type,
        "timestamp": envelope.occurred_at.isoformat(),
        "event_id": str(envelope.id),
        "data": data,
    }
    return json.dumps(body, default=str, separators=(",", ":"), sort_keys=True)


def may_deliver(
    event_type: str,
    referral: Document | None,
    institution_id: str,
    *,
    now: datetime,
    retention: timedelta,
) -> bool:
    """Whether a queued delivery may still go: its referral is in the institution's view
    (a revocation's or decline's own notice always goes: it carries nothing but the id)."""
    if referral is None:
        return False
    if event_type in FAREWELL_TYPES:
        return True
    return visible_to_partner(referral, institution_id, now=now, retention=retention)


def to_read(doc: Document) -> DeliveryRead:
    """The admin view of a stored delivery."""
    return DeliveryRead(
        id=doc["_id"], **{k: v for k, v in doc.items() if k in DeliveryRead.model_fields}
    )


def attempt_update(
    status: str,
    *,
    attempts: int,
    status_code: int | None,
    error: str | None,
    now: datetime,
    **fields: Any,
) -> Document:
    """The update recording one attempt's outcome: the new status, its fields, the history."""
    return {
        "$set": {
            "status": status,
            "attempts": attempts,
            **fields,
            "last_status": status_code,
            "last_error": error,
            "lease_until": None,
        },
        "$push": {"history": {"at": now, "status_code": status_code, "error": error}},
    }


def signed_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The headers of one delivery attempt: id (stable across retries), timestamp, signature.

    The signature covers the id, the timestamp and the body, so a receiver that checks it,
    refuses timestamps outside its tolerance and remembers ids it has handled can reject
    both tampered and replayed requests.
    """
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body),
        "content-type": "application/json",
        "user-agent": "Ruta-Webhooks/1",
    }


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): exponential, capped."""
    return float(min(cap, base * 2 ** max(attempt - 1, 0)))
