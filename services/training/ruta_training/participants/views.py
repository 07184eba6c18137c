"""Routes of the participant registry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from ruta_shared.api import Page, PageParams, idempotency_key, page_params

from ruta_training.deps import ParticipantId, PiiReader, PiiWriter, RuntimeDep, TrainingReader
from ruta_training.participants import service
from ruta_training.participants.models import (
    ParticipantCreate,
    ParticipantPersonalRead,
    ParticipantRead,
    ParticipantRegistered,
)
from ruta_training.participants.rules import to_read

router = APIRouter(prefix="/participants", tags=["participantes"])


@router.post("", response_model=ParticipantRegistered, status_code=201)
async def register_participant(
    body: ParticipantCreate,
    runtime: RuntimeDep,
    who: PiiWriter,
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    """Register a participant (201), or find the known person by document or email (200)."""

    async def operation() -> tuple[int, Any]:
        result = await service.register(runtime=runtime, principal=who, person=body)
        read = ParticipantRegistered(id=result.participant_id, created=result.created)
        return (201 if result.created else 200), read.model_dump(mode="json")

    # The fingerprint is a hash of the body: no personal data is stored with the key.
    return await runtime.idempotency.run(
        scope=f"{who.id}:register_participant",
        key=key,
        request=body.model_dump(mode="json"),
        operation=operation,
    )


@router.get("", response_model=Page[ParticipantRead])
async def list_participants(
    runtime: RuntimeDep, who: TrainingReader, page: Annotated[PageParams, Depends(page_params)]
) -> Page[ParticipantRead]:
    """Participants seen in the caller's offices (countable attributes only)."""
    docs, total = await service.list_participants(runtime=runtime, principal=who, page=page)
    return Page(items=[to_read(d) for d in docs], total=total, limit=page.limit, offset=page.offset)


@router.get("/{participant_id}", response_model=ParticipantPersonalRead)
async def read_participant(
    participant_id: ParticipantId, runtime: RuntimeDep, who: PiiReader
) -> JSONResponse:
    """A participant's personal data, decrypted; every read is recorded."""
    read = await service.read_personal(
        runtime=runtime, principal=who, participant_id=participant_id
    )
    return JSONResponse(read.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
