"""Security events: reads of personal data and break-the-glass grants (never the data itself).

They are published by whichever service served the read or granted the access, through
that service's outbox: `for_source("training")` gives the payload class bound to that
service's topic. The registered class (source "intake", the main reader of personal data)
is what consumers decode into; `envelope.source` says which service published it.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import ClassVar, Literal, TypeVar

from pydantic import Field

from ruta_shared.events.envelope import EventData
from ruta_shared.events.registry_default import EVENTS
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import Office

FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"

SubjectType = Literal["victim", "relative", "participant", "case"]
AccessPurpose = Literal[
    "case_work",
    "care",
    "legal_aid",
    "referral",
    "return_home",
    "reintegration",
    "supervision",
    "consent_review",
    "training",
    "duplicate_check",
    "break_glass",
    "data_subject_request",
]

P = TypeVar("P", bound=EventData)


@EVENTS.register
class PiiAccessed(EventData):
    """Someone read a person's decrypted personal data (which fields, why; not the values)."""

    event_type: ClassVar[str] = "pii.accessed"
    event_version: ClassVar[int] = 1
    source: ClassVar[str] = "intake"

    access_id: str = Field(pattern=ID_PATTERN)
    subject_type: SubjectType
    subject_id: str = Field(pattern=ID_PATTERN, description="Pseudonymous id of the person.")
    case_id: str | None = Field(default=None, pattern=ID_PATTERN)
    purpose: AccessPurpose
    fields: list[str] = Field(min_length=1, max_length=50, description="Field names read.")
    accessed_at: datetime
    break_glass_grant_id: str | None = Field(default=None, pattern=ID_PATTERN)


@EVENTS.register
class BreakGlassGranted(EventData):
    """A user got time-limited access to a case outside their scope, with a justification."""

    event_type: ClassVar[str] = "access.break_glass_granted"
    event_version: ClassVar[int] = 1
    source: ClassVar[str] = "intake"

    grant_id: str = Field(pattern=ID_PATTERN)
    case_id: str = Field(pattern=ID_PATTERN)
    office: Office
    granted_at: datetime
    expires_at: datetime
    justification_length: int = Field(ge=1, description="The text stays encrypted in the service.")


@cache
def for_source(model: type[P], source: str) -> type[P]:
    """The payload class `model` published by `source` (same fields, that service's topic)."""
    if source == model.source:
        return model
    bound: type[P] = type(f"{model.__name__}From{source.title()}", (model,), {"source": source})
    return bound
