"""Signs webhook requests following the Standard Webhooks specification (`standardwebhooks`)."""

from __future__ import annotations

from datetime import datetime
from math import floor

from standardwebhooks.webhooks import Webhook


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
