"""What the audit routes do: read a trail from the ledger, lay it out, verify it."""

from __future__ import annotations

from fastapi import HTTPException

from ruta_analytics.audit.rules import verify_trail
from ruta_analytics.audit.timeline import ACCESS_EVENTS, entry_view, ordered, stages
from ruta_analytics.projection.models import AUDIT, AUDIT_HEADS, Document
from ruta_analytics.runtime import Runtime


async def trail_documents(*, runtime: Runtime, trail: str) -> tuple[list[Document], list[Document]]:
    """A trail's entries and chain heads; 404 when the ledger has nothing for it."""
    generation = await runtime.generation()
    entries = [doc async for doc in generation.collection(AUDIT).find({"trail": trail})]
    heads = [doc async for doc in generation.collection(AUDIT_HEADS).find({"trail": trail})]
    if not entries and not heads:
        raise HTTPException(status_code=404, detail="No hay registros para este caso.")
    return entries, heads


async def read_trail(*, runtime: Runtime, trail: str) -> Document:
    """A trail's stages with the time spent in each, and every entry in time order."""
    entries, _heads = await trail_documents(runtime=runtime, trail=trail)
    return {
        "trail": trail,
        "stages": stages(entries),
        "entries": [entry_view(entry) for entry in ordered(entries)],
    }


async def verify(*, runtime: Runtime, trail: str) -> Document:
    """Recompute every chain of a trail; a broken link is counted in the metrics."""
    entries, heads = await trail_documents(runtime=runtime, trail=trail)
    broken = verify_trail(entries, heads)
    if broken is not None:
        runtime.audit_failures.inc()
    return {
        "trail": trail,
        "valid": broken is None,
        "entries": len(entries),
        "chains": len(heads),
        "first_broken_link": broken.as_dict() if broken else None,
    }


async def access_log(*, runtime: Runtime, trail: str) -> Document:
    """A trail's reads of personal data and break-the-glass grants, in time order."""
    entries, _heads = await trail_documents(runtime=runtime, trail=trail)
    access = [entry_view(e) for e in ordered(entries) if e["type"] in ACCESS_EVENTS]
    return {"trail": trail, "entries": access}
