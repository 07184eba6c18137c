"""What every intake body shares: the strict input base, text and id field types, the error body."""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import UBIGEO_PATTERN

# Ids in intake's events are at most 64 characters: an id accepted here always fits one.
MAX_ID_LENGTH: Final = 64

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Ubigeo = Annotated[str, Field(pattern=UBIGEO_PATTERN, description="Región (código ubigeo INEI)")]
ResourceId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]


class Input(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ErrorItem(BaseModel):
    """One rejected field."""

    field: str
    type: str
    message: str


class Problem(BaseModel):
    """An error: a Spanish sentence, and the fields at fault when there are any."""

    detail: str
    errors: list[ErrorItem] | None = None
    existing_victim_id: str | None = Field(
        default=None, description="Víctima ya registrada con el mismo documento (aviso 409)."
    )


# The error answers every intake router documents.
PROBLEM_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": Problem} for status in (401, 403, 404, 409, 410, 412, 422, 428)
}
