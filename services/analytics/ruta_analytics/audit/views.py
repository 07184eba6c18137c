"""Audit routes: a trail, its verification and export, its access log; checkpoints and keys."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ruta_analytics.audit import service
from ruta_analytics.deps import (
    AccessLogReader,
    AuditReader,
    LedgerVerifier,
    RuntimeDep,
    Sealer,
    TrailId,
)
from ruta_analytics.projection.models import Document

router = APIRouter(prefix="/audit", tags=["auditoría"])


@router.get("/trails/{trail_id}")
async def read_trail(runtime: RuntimeDep, trail_id: TrailId, _: AuditReader) -> Document:
    """A case's (or session's) route of care: stages with time spent, and every entry."""
    return await service.read_trail(runtime=runtime, trail=trail_id)


@router.get("/trails/{trail_id}/verify")
async def verify(runtime: RuntimeDep, trail_id: TrailId, _: AuditReader) -> Document:
    """Check the trail's chain, its latest checkpoint, its sequences and the Kafka copies."""
    return await service.verify(runtime=runtime, trail=trail_id)


@router.get("/trails/{trail_id}/export")
async def export(runtime: RuntimeDep, trail_id: TrailId, _: AuditReader) -> Response:
    """The trail as JSON lines with its checkpoint, inclusion proof and public key."""
    body = await service.export(runtime=runtime, trail=trail_id)
    headers = {"Content-Disposition": f'attachment; filename="trail-{trail_id}.jsonl"'}
    return Response(body, media_type="application/x-ndjson", headers=headers)


@router.get("/trails/{trail_id}/access-log")
async def access_log(runtime: RuntimeDep, trail_id: TrailId, _: AccessLogReader) -> Document:
    """Reads of personal data and break-the-glass grants on a case, in time order."""
    return await service.access_log(runtime=runtime, trail=trail_id)


@router.post("/checkpoints", status_code=201)
async def seal(runtime: RuntimeDep, _: Sealer) -> Document:
    """Seal a checkpoint of every chain now."""
    return await service.seal_now(runtime=runtime)


@router.get("/checkpoints/latest")
async def latest(runtime: RuntimeDep, _: AuditReader) -> Document:
    """The latest signed checkpoint."""
    return await service.latest(runtime=runtime)


@router.get("/keys")
async def keys(runtime: RuntimeDep, _: AuditReader) -> Document:
    """The public keys checkpoints are signed with, by key id."""
    return service.public_keys(runtime=runtime)


@router.get("/ledger/verify")
async def verify_ledger(runtime: RuntimeDep, _: LedgerVerifier) -> Document:
    """Check every checkpoint and every chain of the ledger (slow: the whole ledger)."""
    return await service.ledger_report(runtime=runtime)
