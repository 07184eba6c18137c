"""Routes of certificates: issue, print (PDF) and the public verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from ruta_shared.security.permissions import public

from ruta_training import certificates as service
from ruta_training.certificate_pdf import render
from ruta_training.deps import ContextDep, PiiReader, TrainingWriter
from ruta_training.models import (
    ID_PATTERN,
    CertificateCreate,
    CertificateIssued,
    CertificateVerification,
)

router = APIRouter(tags=["certificados"])


@router.post(
    "/sessions/{session_id}/certificates", response_model=CertificateIssued, status_code=201
)
async def issue_certificate(
    session_id: Annotated[str, Path(pattern=ID_PATTERN)],
    body: CertificateCreate,
    context: ContextDep,
    who: TrainingWriter,
) -> JSONResponse:
    """Issue a participant's certificate (201), or return the one already issued (200)."""
    issued = await service.issue(
        context=context, principal=who, session_id=session_id, participant_id=body.participant_id
    )
    return JSONResponse(issued.model_dump(mode="json"), status_code=201 if issued.created else 200)


@router.get(
    "/sessions/{session_id}/certificates/{participant_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "El certificado en PDF"}},
)
async def certificate_pdf(
    session_id: Annotated[str, Path(pattern=ID_PATTERN)],
    participant_id: Annotated[str, Path(pattern=ID_PATTERN)],
    context: ContextDep,
    who: PiiReader,
) -> Response:
    """The certificate as a PDF (it shows the person's name: the read is recorded)."""
    printable = await service.printable(
        context=context, principal=who, session_id=session_id, participant_id=participant_id
    )
    return Response(
        render(printable),
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="certificado.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/certificates/verify/{code}",
    response_model=CertificateVerification,
    dependencies=[public("anyone holding a certificate may check that it is genuine")],
)
async def verify_certificate(
    code: Annotated[str, Path(max_length=64, description="Código impreso en el certificado")],
    context: ContextDep,
) -> CertificateVerification:
    """Public: whether a code belongs to a certificate, and its course and date; nothing else."""
    return await service.verify(context=context, code=code)
