"""Routes of the participant registry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from ruta_shared.api import Page, PageParams, idempotency_key, page_params

from ruta_training import participants as service
from ruta_training.deps import ContextDep, PiiReader, PiiWriter, TrainingReader, idempotency
from ruta_training.models import (
    ID_PATTERN,
    ParticipantCreate,
    ParticipantPersonalRead,
    ParticipantRead,
    ParticipantRegistered,
)

router = APIRouter(prefix="/participants", tags=["participantes"])

ParticipantId = Annotated[str, Path(pattern=ID_PATTERN, description="Id del participante")]


@router.post("", response_model=ParticipantRegistered, status_code=201)
async def register_participant(
    body: ParticipantCreate,
    context: ContextDep,
    who: PiiWriter,
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    """Register a participant (201), or find the known person by document or email (200)."""

    async def operation() -> tuple[int, Any]:
        result = await service.register(context=context, principal=who, person=body)
        read = ParticipantRegistered(id=result.participant_id, created=result.created)
        return (201 if result.created else 200), read.model_dump(mode="json")

    # The fingerprint is a hash of the body: no personal data is stored with the key.
    return await idempotency(context).run(
        scope=f"{who.id}:register_participant",
        key=key,
        request=body.model_dump(mode="json"),
        operation=operation,
    )


@router.get("", response_model=Page[ParticipantRead])
async def list_participants(
    context: ContextDep, who: TrainingReader, page: Annotated[PageParams, Depends(page_params)]
) -> Page[ParticipantRead]:
    """Participants seen in the caller's offices (countable attributes only)."""
    docs, total = await service.list_participants(context=context, principal=who, page=page)
    return Page(
        items=[service.to_read(d) for d in docs], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/{participant_id}", response_model=ParticipantPersonalRead)
async def read_participant(
    participant_id: ParticipantId, context: ContextDep, who: PiiReader
) -> JSONResponse:
    """A participant's personal data, decrypted; every read is recorded."""
    read = await service.read_personal(
        context=context, principal=who, participant_id=participant_id
    )
    return JSONResponse(read.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
