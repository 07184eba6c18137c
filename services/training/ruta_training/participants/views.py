"""Routes of the participant registry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from ruta_shared.api import Page, PageParams, etag, idempotency_key, page_params
from ruta_shared.outbox import SEQUENCE_FIELD

from ruta_training.deps import (
    NO_STORE,
    ParticipantId,
    PiiReader,
    PiiWriter,
    RuntimeDep,
    TrainingReader,
)
from ruta_training.participants import records, service
from ruta_training.participants.models import (
    DUPLICATE_NOTICE,
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
    """Register a participant (201), or find the known person by document or email (200).

    Only participants of the caller's offices are found again; when the person may also be
    registered by another office, `notice` says so (without naming it) for a coordinator.
    """

    async def operation() -> tuple[int, Any]:
        result = await service.register(runtime=runtime, principal=who, person=body)
        read = ParticipantRegistered(
            id=result.participant_id,
            created=result.created,
            notice=DUPLICATE_NOTICE if result.possible_duplicate else None,
        )
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
    docs, total = await records.list_participants(runtime=runtime, principal=who, page=page)
    return Page(items=[to_read(d) for d in docs], total=total, limit=page.limit, offset=page.offset)


@router.get("/{participant_id}", response_model=ParticipantPersonalRead)
async def read_participant(
    participant_id: ParticipantId, runtime: RuntimeDep, who: PiiReader
) -> JSONResponse:
    """A participant's personal data, decrypted, with its ETag; every read is recorded
    (410 when erased; a merged participant answers as the one it was merged into)."""
    doc = await records.load_participant(
        runtime=runtime, principal=who, participant_id=participant_id
    )
    read = await records.personal_of(runtime=runtime, principal=who, doc=doc, purpose="training")
    return personal_response(read, int(doc.get(SEQUENCE_FIELD, 0)))


def personal_response(read: ParticipantPersonalRead, version: int) -> JSONResponse:
    """Personal data with its ETag (for If-Match on a rectification), never cached."""
    return JSONResponse(read.model_dump(mode="json"), headers={"ETag": etag(version), **NO_STORE})
