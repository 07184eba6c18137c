"""Routes of the institutions registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from ruta_shared.api import Page, etag, problem, version_conflict
from ruta_shared.reference import InstitutionKind
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import IfMatchDep, InstitutionIdPath, PageDep, RuntimeDep
from ruta_referrals.institutions import service
from ruta_referrals.institutions.models import (
    InstitutionCreate,
    InstitutionRead,
    InstitutionUpdate,
    WebhookSecretIssued,
)
from ruta_referrals.institutions.rules import to_read

router = APIRouter(prefix="/institutions", tags=["instituciones"])

NOT_FOUND = "Institución no encontrada."


@router.get("", response_model=Page[InstitutionRead])
async def list_institutions(
    *,
    _: Annotated[Principal, require("institution:read")],
    runtime: RuntimeDep,
    page: PageDep,
    kind: Annotated[InstitutionKind | None, Query(description="Tipo de institución")] = None,
) -> Page[InstitutionRead]:
    """List the registered institutions, optionally of one kind."""
    docs, total = await service.list_institutions(
        runtime=runtime, kind=kind, limit=page.limit, offset=page.offset
    )
    return Page(items=[to_read(d) for d in docs], total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=InstitutionRead, status_code=201)
async def create_institution(
    *,
    body: InstitutionCreate,
    _: Annotated[Principal, require("institution:write")],
    runtime: RuntimeDep,
    response: Response,
) -> InstitutionRead:
    """Register an institution."""
    doc = await service.create_institution(runtime=runtime, body=body)
    response.headers["ETag"] = etag(doc["version"])
    return to_read(doc)


@router.get("/{institution_id}", response_model=InstitutionRead)
async def get_institution(
    *,
    institution_id: InstitutionIdPath,
    _: Annotated[Principal, require("institution:read")],
    runtime: RuntimeDep,
    response: Response,
) -> InstitutionRead:
    """Read one institution."""
    doc = await service.get_institution(runtime=runtime, institution_id=institution_id)
    if doc is None:
        raise problem(404, NOT_FOUND)
    response.headers["ETag"] = etag(doc.get("version", 1))
    return to_read(doc)


@router.patch("/{institution_id}", response_model=InstitutionRead)
async def update_institution(
    *,
    institution_id: InstitutionIdPath,
    body: InstitutionUpdate,
    _: Annotated[Principal, require("institution:write")],
    runtime: RuntimeDep,
    version: IfMatchDep,
    response: Response,
) -> InstitutionRead:
    """Change an institution's name, contact, integration or webhook URL (If-Match required)."""
    if await service.get_institution(runtime=runtime, institution_id=institution_id) is None:
        raise problem(404, NOT_FOUND)
    doc = await service.update_institution(
        runtime=runtime, institution_id=institution_id, body=body, expected_version=version
    )
    if doc is None:
        raise version_conflict()
    response.headers["ETag"] = etag(doc["version"])
    return to_read(doc)


@router.post("/{institution_id}/webhook-secret", response_model=WebhookSecretIssued)
async def rotate_webhook_secret(
    *,
    institution_id: InstitutionIdPath,
    _: Annotated[Principal, require("institution:write")],
    runtime: RuntimeDep,
    response: Response,
) -> WebhookSecretIssued:
    """Issue a new webhook signing secret, shown only in this answer; the old one stops at once."""
    secret = await service.rotate_webhook_secret(runtime=runtime, institution_id=institution_id)
    if secret is None:
        raise problem(404, NOT_FOUND)
    response.headers["Cache-Control"] = "no-store"
    return WebhookSecretIssued(institution_id=institution_id, secret=secret)
