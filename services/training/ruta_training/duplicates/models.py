"""Request and response bodies of suspected duplicates across offices (coordinators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from ruta_shared.events.catalog.training import MatchedOn
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import Office

from ruta_training.sessions.models import Body

DuplicateStatus = Literal["pending", "merged", "distinct"]


class DuplicateParticipant(BaseModel):
    """One of the two participants, as it is now (no personal data)."""

    id: str
    offices: list[Office]
    erased: bool
    merged_into: str | None


class DuplicateRead(BaseModel):
    """Two participants of different offices sharing a document number or an email."""

    id: str
    participants: list[DuplicateParticipant]
    matched_on: list[MatchedOn]
    status: DuplicateStatus
    suspected_at: datetime
    resolved_at: datetime | None = None
    kept_participant_id: str | None = None


class DuplicateMerge(Body):
    """Merge the pair into one participant: the one kept keeps its personal data."""

    keep: str = Field(pattern=ID_PATTERN, description="Id del participante que se conserva")
