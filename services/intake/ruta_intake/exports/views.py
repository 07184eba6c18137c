"""The HTCDS export route (coordinators and auditors; de-identified, optionally k-anonymous)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from ruta_shared.aggregate import RuleViolationError
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import PROBLEM_RESPONSES
from ruta_intake.deps import RuntimeDep
from ruta_intake.exports import service
from ruta_intake.exports.models import COLUMNS
from ruta_intake.settings import IntakeSettings

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["exportaciones"])
MIN_K, MAX_K = 2, 100
CSV_MEDIA = "text/csv; charset=utf-8"
COLUMNS_DOC = "; ".join(f"`{name}`: {meaning}" for name, meaning in COLUMNS.items())


@router.get(
    "/exports/htcds.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": COLUMNS_DOC}},
)
async def export_htcds(
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("case:export_deidentified")],
    k_anonymity: Annotated[
        bool, Query(description="Generalizar y suprimir hasta que cada combinación tenga k")
    ] = False,
    k: Annotated[
        int | None, Query(ge=MIN_K, le=MAX_K, description="Por defecto, el de la configuración")
    ] = None,
) -> StreamingResponse:
    """Cases and victims as HTCDS CSV, one row per victim, without any personal data."""
    if k is not None and not k_anonymity:
        raise RuleViolationError("query.k", "solo se usa con k_anonymity=true")
    settings = runtime.context.settings
    if not isinstance(settings, IntakeSettings):  # pragma: no cover - the composition root's
        msg = "intake runs with IntakeSettings"
        raise TypeError(msg)
    if k_anonymity:
        rows = service.k_anonymous_csv(
            runtime=runtime,
            principal=principal,
            k=k or settings.htcds_k,
            max_suppressed=settings.htcds_max_suppressed_share,
        )
    else:
        rows = service.htcds_csv(runtime=runtime, principal=principal)
    return StreamingResponse(
        rows,
        media_type=CSV_MEDIA,
        headers={
            "Content-Disposition": 'attachment; filename="htcds.csv"',
            "Cache-Control": "no-store",
        },
    )
