"""Routes of suspected duplicates across offices: list, merge, confirm two people."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from ruta_shared.api import Page, PageParams, page_params

from ruta_training.deps import DuplicateId, DuplicateResolver, RuntimeDep
from ruta_training.duplicates import service
from ruta_training.duplicates.models import DuplicateMerge, DuplicateRead, DuplicateStatus

router = APIRouter(prefix="/participant-duplicates", tags=["posibles duplicados"])


@router.get("", response_model=Page[DuplicateRead])
async def list_duplicates(
    runtime: RuntimeDep,
    who: DuplicateResolver,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[DuplicateStatus, Query(description="Estado")] = "pending",
) -> Page[DuplicateRead]:
    """Pairs of participants of different offices that share a document number or email
    (pending by default), with their offices; no personal data."""
    items, total = await service.list_duplicates(runtime=runtime, status=status, page=page)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/{duplicate_id}/merge", response_model=DuplicateRead)
async def merge_duplicate(
    duplicate_id: DuplicateId, body: DuplicateMerge, runtime: RuntimeDep, who: DuplicateResolver
) -> DuplicateRead:
    """One person: keep `keep`, move the other's attendance to it and erase the other's
    personal data (repeating a merge finishes one that stopped half way)."""
    return await service.merge(
        runtime=runtime, principal=who, duplicate_id=duplicate_id, keep=body.keep
    )


@router.post("/{duplicate_id}/distinct", response_model=DuplicateRead)
async def confirm_distinct(
    duplicate_id: DuplicateId, runtime: RuntimeDep, who: DuplicateResolver
) -> DuplicateRead:
    """Two people who share a document number or email: both stay as they are."""
    return await service.confirm_distinct(runtime=runtime, principal=who, duplicate_id=duplicate_id)
