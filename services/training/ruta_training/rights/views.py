"""Routes of data subjects' rights: rectify (trainer), erase and export (coordinator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from ruta_shared.api import etag, if_match_version

from ruta_training.deps import (
    NO_STORE,
    ParticipantEraser,
    ParticipantExporter,
    ParticipantId,
    PiiWriter,
    RuntimeDep,
)
from ruta_training.rights import export as exports
from ruta_training.rights import service
from ruta_training.rights.models import (
    ErasureRead,
    ParticipantExport,
    ParticipantRectified,
    ParticipantRectify,
)

router = APIRouter(prefix="/participants", tags=["derechos ARCO"])


@router.patch("/{participant_id}", response_model=ParticipantRectified)
async def rectify_participant(
    participant_id: ParticipantId,
    body: ParticipantRectify,
    runtime: RuntimeDep,
    who: PiiWriter,
    version: Annotated[int, Depends(if_match_version)],
) -> JSONResponse:
    """Correct a participant's personal data or attributes (If-Match required); the event
    names the fields changed, never their values."""
    read, new_version = await service.rectify(
        runtime=runtime,
        principal=who,
        participant_id=participant_id,
        body=body,
        expected_version=version,
    )
    return JSONResponse(
        read.model_dump(mode="json"), headers={"ETag": etag(new_version), **NO_STORE}
    )


@router.post("/{participant_id}/erasure", response_model=ErasureRead)
async def erase_participant(
    participant_id: ParticipantId, runtime: RuntimeDep, who: ParticipantEraser
) -> ErasureRead:
    """Erase a participant's personal data for good (a data subject's request); the
    attendance figures stay and their certificates still verify, without a name."""
    return await service.erase(runtime=runtime, principal=who, participant_id=participant_id)


@router.get("/{participant_id}/export", response_model=ParticipantExport)
async def export_participant(
    participant_id: ParticipantId, runtime: RuntimeDep, who: ParticipantExporter
) -> JSONResponse:
    """Everything training holds on a participant, decrypted, for a coordinator to hand over
    to the person (the read is recorded as a data subject's request)."""
    exported = await exports.export(runtime=runtime, principal=who, participant_id=participant_id)
    return JSONResponse(exported.model_dump(mode="json"), headers=dict(NO_STORE))
