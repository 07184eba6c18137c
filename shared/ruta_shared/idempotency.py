"""Apply an event's effect at most once, by per-subject sequence, in one atomic update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from ruta_shared.events import EventEnvelope
from ruta_shared.outbox import merge_updates

APPLIED_FIELD = "_applied"


async def apply_once(
    collection: AsyncCollection[dict[str, Any]],
    *,
    doc_id: Any,
    envelope: EventEnvelope,
    update: Mapping[str, Mapping[str, Any]],
) -> bool:
    """Apply `update` to one document unless it already saw this subject's event (or a later one).

    The document remembers the last sequence applied per subject, and the guard and the
    effect are a single update, so a re-delivered or re-published event has no second
    effect. Kafka keeps one subject's events in order, so a lower sequence is a repeat.
    Returns True when the effect was applied now.
    """
    marker = f"{APPLIED_FIELD}.{envelope.subject}"
    guarded = merge_updates(update, {"$set": {marker: envelope.sequence}})
    try:
        result = await collection.update_one(
            {"_id": doc_id, marker: {"$not": {"$gte": envelope.sequence}}}, guarded, upsert=True
        )
    except DuplicateKeyError:
        return False  # the document exists and its guard refused: already applied
    return result.matched_count == 1 or result.upserted_id is not None
