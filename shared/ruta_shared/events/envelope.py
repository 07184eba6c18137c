"""The one envelope every Ruta event travels in, and the base class for event payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from uuid6 import uuid7

from ruta_shared.correlation import current_correlation_id

EVENT_TYPE_PATTERN = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$"


class Actor(BaseModel):
    """Who caused an event: a user id (never a name) and the role they acted in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    role: str = Field(min_length=1, max_length=40)


SYSTEM_ACTOR = Actor(id="system", role="system")


class EventData(BaseModel):
    """Base class of every event payload: immutable, strict, named in the past tense.

    Subclasses set `event_type`, `event_version` and `source` (the owning service).
    Payloads carry pseudonymous ids and non-identifying attributes only: never names,
    document numbers, birth dates, contacts, addresses or free-text notes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    source: ClassVar[str]


class EventEnvelope(BaseModel):
    """Metadata around an event payload; JSON on the wire."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID = Field(default_factory=uuid7, description="Time-ordered UUID (v7).")
    type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=80)
    version: int = Field(ge=1)
    source: str = Field(min_length=1, max_length=40)
    subject: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Aggregate id (case or session); also a Mongo key, so no dots.",
    )
    sequence: int = Field(ge=1, description="Per-subject, strictly increasing.")
    occurred_at: AwareDatetime
    actor: Actor
    correlation_id: str = Field(min_length=1, max_length=100)
    causation_id: str | None = Field(default=None, max_length=100)
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def key(self) -> bytes:
        """The Kafka key: the subject, so one subject's events stay in order."""
        return self.subject.encode()


def new_event(
    payload: EventData,
    *,
    subject: str,
    sequence: int,
    actor: Actor,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
) -> EventEnvelope:
    """Wrap a payload in an envelope; the correlation id defaults to the current request's."""
    return EventEnvelope(
        type=payload.event_type,
        version=payload.event_version,
        source=payload.source,
        subject=subject,
        sequence=sequence,
        occurred_at=occurred_at or datetime.now(UTC),
        actor=actor,
        correlation_id=correlation_id or current_correlation_id(),
        causation_id=causation_id,
        data=payload.model_dump(mode="json"),
    )
