"""Possible-duplicate routes: the pending ones in a coordinator's offices, and resolving one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from ruta_shared.api import Page
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import MAX_ID_LENGTH, PROBLEM_RESPONSES
from ruta_intake.deps import Paging, RuntimeDep
from ruta_intake.duplicates import service
from ruta_intake.duplicates.models import (
    DuplicateResolution,
    DuplicateStatus,
    PossibleDuplicateRead,
)

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["posibles duplicados"])
DuplicateId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]


@router.get("/possible-duplicates", response_model=Page[PossibleDuplicateRead])
async def list_duplicates(
    *,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim:merge")],
    page: Paging,
    status: DuplicateStatus = "pending",
) -> Page[PossibleDuplicateRead]:
    """Possible duplicates across offices with both records in your offices (oldest first)."""
    return await service.list_duplicates(
        runtime=runtime, principal=principal, page=page, status=status
    )


@router.post("/possible-duplicates/{duplicate_id}/resolution", response_model=PossibleDuplicateRead)
async def resolve_duplicate(
    *,
    duplicate_id: DuplicateId,
    body: DuplicateResolution,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require("victim:merge")],
) -> PossibleDuplicateRead:
    """Resolve a possible duplicate: the same person (records linked) or two people."""
    return await service.resolve_duplicate(
        runtime=runtime, principal=principal, duplicate_id=duplicate_id, body=body
    )
