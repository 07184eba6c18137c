"""API schemas of webhook deliveries (the admin's dead-letter list and replay)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

# withdrawn: not sent, its referral left the institution's view (revoked, declined, expired)
DeliveryStatus = Literal["pending", "in_flight", "delivered", "dead", "withdrawn"]


class AttemptRead(BaseModel):
    """One delivery attempt."""

    at: datetime
    status_code: int | None
    error: str | None


class DeliveryRead(BaseModel):
    """A webhook delivery (its body is not shown: the institution received it)."""

    id: str
    event_id: str
    event_type: str
    referral_id: str
    institution_id: str
    status: DeliveryStatus
    attempts: int
    replays: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    history: list[AttemptRead]
