"""Admin routes of webhook deliveries: the dead-letter list and replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from ruta_shared.api import Page, problem
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_referrals.deps import DeliveryIdPath, PageDep, RuntimeDep
from ruta_referrals.webhooks.deliveries import DeliveryStore

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

DeliveryStatus = Literal["pending", "in_flight", "delivered", "dead"]


class AttemptRead(BaseModel):
    """One delivery attempt."""

    at: datetime
    status_code: int | None
    error: str | None


class DeliveryRead(BaseModel):
    """A webhook delivery (its body is not shown: the institution received it)."""

    id: str
    event_id: str
    event_type: str
    referral_id: str
    institution_id: str
    status: DeliveryStatus
    attempts: int
    replays: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    history: list[AttemptRead]


def to_read(doc: dict[str, Any]) -> DeliveryRead:
    """The admin view of a stored delivery."""
    return DeliveryRead(
        id=doc["_id"], **{k: v for k, v in doc.items() if k in DeliveryRead.model_fields}
    )


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
        str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Institución")
    ] = None,
) -> Page[DeliveryRead]:
    """List webhook deliveries; `status=dead` is the dead-letter list."""
    docs, total = await DeliveryStore(runtime.db).list(
        status=status, institution_id=institution_id, limit=page.limit, offset=page.offset
    )
    return Page(items=[to_read(d) for d in docs], total=total, limit=page.limit, offset=page.offset)


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryRead)
async def replay_delivery(
    *,
    delivery_id: DeliveryIdPath,
    _: Annotated[Principal, require("admin:partners")],
    runtime: RuntimeDep,
    request: Request,
) -> DeliveryRead:
    """Queue a dead-lettered delivery again (same webhook-id, fresh timestamp and signature)."""
    store = DeliveryStore(runtime.db)
    doc = await store.replay(delivery_id)
    if doc is None:
        if await store.get(delivery_id) is None:
            raise problem(404, "Entrega no encontrada.")
        raise problem(409, "Solo se puede reenviar una entrega que no se pudo entregar.")
    dispatcher = getattr(request.app.state, "webhook_dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()
    return to_read(doc)
