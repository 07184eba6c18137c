"""Admin routes of webhook deliveries: the dead-letter list and replay."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from ruta_shared.api import Page
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import DeliveryIdPath, PageDep, RuntimeDep
from ruta_referrals.webhooks import service
from ruta_referrals.webhooks.models import DeliveryRead, DeliveryStatus

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.get("/deliveries", response_model=Page[DeliveryRead])
async def list_deliveries(
    *,
    _: Annotated[Principal, require("admin:partners")],
    runtime: RuntimeDep,
    page: PageDep,
    status: Annotated[
        DeliveryStatus | None, Query(description="Estado (dead: no entregadas)")
    ] = None,
    institution_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Institución")
    ] = None,
) -> Page[DeliveryRead]:
    """List webhook deliveries; `status=dead` is the dead-letter list."""
    items, total = await service.list_deliveries(
        runtime=runtime,
        status=status,
        institution_id=institution_id,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryRead)
async def replay_delivery(
    *,
    delivery_id: DeliveryIdPath,
    _: Annotated[Principal, require("admin:partners")],
    runtime: RuntimeDep,
) -> DeliveryRead:
    """Queue a dead-lettered delivery again (same webhook-id, fresh timestamp and signature)."""
    return await service.replay_delivery(runtime=runtime, delivery=delivery_id)
