"""Audit routes: the route of care of a case or session, its verification, its access log."""

from __future__ import annotations

from fastapi import APIRouter

from ruta_analytics.audit import service
from ruta_analytics.deps import AccessLogReader, AuditReader, RuntimeDep, TrailId
from ruta_analytics.projection.models import Document

router = APIRouter(prefix="/audit", tags=["auditoría"])


@router.get("/trails/{trail_id}")
async def read_trail(runtime: RuntimeDep, trail_id: TrailId, _: AuditReader) -> Document:
    """A case's (or session's) route of care: stages with time spent, and every entry."""
    return await service.read_trail(runtime=runtime, trail=trail_id)


@router.get("/trails/{trail_id}/verify")
async def verify(runtime: RuntimeDep, trail_id: TrailId, _: AuditReader) -> Document:
    """Recompute every chain of the trail; report the first broken link, if any."""
    return await service.verify(runtime=runtime, trail=trail_id)


@router.get("/trails/{trail_id}/access-log")
async def access_log(runtime: RuntimeDep, trail_id: TrailId, _: AccessLogReader) -> Document:
    """Reads of personal data and break-the-glass grants on a case, in time order."""
    return await service.access_log(runtime=runtime, trail=trail_id)
