"""Routes of certificates: issue, print (PDF) and the public verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from ruta_shared.security.permissions import public

from ruta_training.certificates import service
from ruta_training.certificates.models import (
    CertificateCreate,
    CertificateIssued,
    CertificateVerification,
)
from ruta_training.certificates.pdf import render
from ruta_training.deps import (
    NO_STORE,
    ParticipantId,
    PiiReader,
    RuntimeDep,
    SessionId,
    TrainingWriter,
)

router = APIRouter(tags=["certificados"])


@router.post(
    "/sessions/{session_id}/certificates", response_model=CertificateIssued, status_code=201
)
async def issue_certificate(
    session_id: SessionId,
    body: CertificateCreate,
    runtime: RuntimeDep,
    who: TrainingWriter,
) -> JSONResponse:
    """Issue a participant's certificate (201), or return the one already issued (200)."""
    issued = await service.issue(
        runtime=runtime, principal=who, session_id=session_id, participant_id=body.participant_id
    )
    return JSONResponse(issued.model_dump(mode="json"), status_code=201 if issued.created else 200)


@router.get(
    "/sessions/{session_id}/certificates/{participant_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "El certificado en PDF"}},
)
async def certificate_pdf(
    session_id: SessionId,
    participant_id: ParticipantId,
    runtime: RuntimeDep,
    who: PiiReader,
) -> Response:
    """The certificate as a PDF (it shows the person's name: the read is recorded)."""
    printable = await service.printable(
        runtime=runtime, principal=who, session_id=session_id, participant_id=participant_id
    )
    return Response(
        render(printable),
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="certificado.pdf"',
            **NO_STORE,
        },
    )


@router.get(
    "/certificates/verify/{code}",
    response_model=CertificateVerification,
    dependencies=[public("anyone holding a certificate may check that it is genuine")],
)
async def verify_certificate(
    code: Annotated[str, Path(max_length=64, description="Código impreso en el certificado")],
    runtime: RuntimeDep,
) -> CertificateVerification:
    """Public: whether a code belongs to a certificate, and its course and date; nothing else."""
    return await service.verify(runtime=runtime, code=code)
