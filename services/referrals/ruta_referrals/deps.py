"""FastAPI dependency aliases of the referrals service: runtime, request headers, path ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from ruta_shared.api import PageParams, idempotency_key, if_match_version, page_params
from ruta_shared.ids import ID_PATTERN

from ruta_referrals.intake_projection.intake_api import IntakeLookup
from ruta_referrals.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The running app's Runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def intake_lookup(request: Request, runtime: RuntimeDep) -> IntakeLookup:
    """Intake's API for this request, asked with the caller's own bearer token."""
    authorization = request.headers.get("Authorization")
    bearer = authorization if authorization and authorization.startswith("Bearer ") else None
    return IntakeLookup(
        client=runtime.intake,
        authorization=bearer,
        retry_after=runtime.settings.intake_retry_after_seconds,
    )


IntakeDep = Annotated[IntakeLookup, Depends(intake_lookup)]
PageDep = Annotated[PageParams, Depends(page_params)]
IfMatchDep = Annotated[int, Depends(if_match_version)]
IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]
CaseIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Id del caso")]
VictimIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Id seudónimo de la víctima")]
ReferralIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la derivación")]
InstitutionIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la institución")]
DeliveryIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la entrega")]
