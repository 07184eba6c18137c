"""Bodies of closure requests: asking, returning with a comment, and their reads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from ruta_shared.events.catalog.intake import ClosureReason

from ruta_intake.bodies import Input

ClosureRequestStatus = Literal["pending", "approved", "returned"]


class ClosureRequestCreate(Input):
    """A case worker's request to close the case."""

    closure_reason: ClosureReason
    note: str | None = Field(
        default=None, min_length=1, max_length=4000, description="Nota (se guarda cifrada)."
    )


class ClosureReturn(Input):
    """A coordinator sends the request back with a comment."""

    comment: str = Field(min_length=1, max_length=4000, description="Comentario (cifrado).")


class ClosureRequestRead(BaseModel):
    """A closure request (free text only through `/details`)."""

    request_id: str
    case_id: str
    office: str
    status: ClosureRequestStatus
    closure_reason: ClosureReason
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    has_note: bool
    has_comment: bool


class ClosureRequestDetails(BaseModel):
    """A closure request's decrypted note and comment."""

    request_id: str
    note: str | None
    comment: str | None
